"""Which inputs are system audio when only their PortAudio name is known, and that a device
is a microphone unless a provider says otherwise."""

from __future__ import annotations

import pytest

from app.core.devices import (
    BOTH,
    BOTH_ID,
    MICROPHONE,
    SYSTEM_AUDIO,
    DeviceKind,
    InputDevice,
    choose_device,
    kind_from_name,
    with_both,
)


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


def _device(device_id: str, kind: DeviceKind = MICROPHONE, *, default: bool = False,
            monitor: bool = False, output: bool = False) -> InputDevice:
    return InputDevice(id=device_id, name=device_id, host_api="PulseAudio", channels=1,
                       default_rate=48_000, is_default=default, is_monitor=monitor, kind=kind,
                       is_default_output=output)


MIC, USB = _device("mic", default=True), _device("usb")
SPEAKERS = _device("speakers.monitor", SYSTEM_AUDIO, monitor=True)
HEADSET = _device("headset.monitor", SYSTEM_AUDIO, monitor=True)


@pytest.mark.parametrize(("devices", "parts"), [
    ([MIC, USB, SPEAKERS, HEADSET], ("mic", "speakers.monitor")),  # default mic, first output
    ([USB, MIC, HEADSET], ("mic", "headset.monitor")),
    ([MIC, SPEAKERS, _device("hdmi.monitor", SYSTEM_AUDIO, monitor=True, output=True)],
     ("mic", "hdmi.monitor")),  # what the default output plays
    ([USB, SPEAKERS], ("usb", "speakers.monitor")),  # no default microphone: the first one
    ([MIC, USB], None),  # no system audio (a platform without loopback): no entry
    ([SPEAKERS, HEADSET], None),  # no microphone
    ([_device("vspeaker.monitor", SYSTEM_AUDIO, default=True, monitor=True), SPEAKERS], None),
    ([], None),
])
def test_microphone_plus_system_audio_entry(devices: list[InputDevice],
                                            parts: tuple[str, str] | None) -> None:
    listed = with_both(devices)
    assert listed[: len(devices)] == devices
    if parts is None:
        assert listed == devices
        return
    both = listed[-1]
    assert (both.id, both.name, both.kind) == (BOTH_ID, "Microphone + system audio", BOTH)
    assert tuple(d.id for d in both.parts) == parts


def test_the_entry_is_remembered_like_any_device_and_listed_once() -> None:
    listed = with_both(with_both([MIC, SPEAKERS]))
    assert [d.id for d in listed] == ["mic", "speakers.monitor", BOTH_ID]
    assert choose_device(listed, BOTH_ID).device == listed[-1]
