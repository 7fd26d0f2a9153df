"""Which inputs are system audio when only their PortAudio name is known, and that a device
is a microphone unless a provider says otherwise."""

from __future__ import annotations

import pytest

from app.core.devices import MICROPHONE, SYSTEM_AUDIO, InputDevice, kind_from_name


@pytest.mark.parametrize("name", [
    "Stereo Mix (Realtek(R) Audio)", "What U Hear (Sound Blaster)", "BlackHole 2ch",
    "Soundflower (64ch)", "Loopback Audio", "Monitor of Built-in Audio Analog Stereo",
])
def test_loopback_inputs_are_system_audio(name: str) -> None:
    assert kind_from_name(name) == SYSTEM_AUDIO


@pytest.mark.parametrize("name", [
    "Microphone (USB Audio Device)", "MacBook Pro Microphone", "Blue Yeti", "pulse", "default",
    "Headset Microphone (Jabra Evolve 65)",
])
def test_other_inputs_are_microphones(name: str) -> None:
    assert kind_from_name(name) == MICROPHONE


def test_a_device_is_a_microphone_unless_said_otherwise() -> None:
    device = InputDevice(id="x", name="x", host_api="MME", channels=1, default_rate=48_000)
    assert device.kind == MICROPHONE and not device.is_monitor
