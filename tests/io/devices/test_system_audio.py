"""System audio on a PulseAudio desktop: each output's monitor is listed as "Sound from
<output>", grouped after the microphones, and recording it captures what is played there.

Against the private sound server (the ``pulse_server`` fixture); every sink loaded here is
unloaded in ``finally``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from app.core.devices import MICROPHONE, SYSTEM_AUDIO, InputDevice, with_both
from app.io.audio.capture import PyAudioCapture
from app.io.devices.pulse import PulseDeviceProvider
from tests.io.audio.test_capture import (
    HELLO,
    CaptureSink,
    best_lag,
    finished,
    ncc_at,
    playing,
    read_pcm,
    recording,
)
from tests.support.pulse import PulseServer, VirtualSink


@contextmanager
def described_sink(server: PulseServer, name: str, description: str, *, rate: int = 16_000,
                   channels: int = 1) -> Iterator[VirtualSink]:
    """A null sink (an "output") whose description differs from its name, as real ones do."""
    index = server.pactl("load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}",
                         f"channels={channels}", "format=s16le", "norewinds=1",
                         f"sink_properties=device.description={description}")
    try:
        yield VirtualSink(name, int(index), rate, channels)
    finally:
        server.pactl("unload-module", index)


@contextmanager
def null_source(server: PulseServer, name: str, description: str) -> Iterator[None]:
    index = server.pactl("load-module", "module-null-source", f"source_name={name}",
                         f"description={description}")
    try:
        yield
    finally:
        server.pactl("unload-module", index)


def by_id(devices: list[InputDevice], device_id: str) -> InputDevice:
    return next(d for d in devices if d.id == device_id)


def test_monitors_are_system_audio_named_for_their_output(pulse_server: PulseServer) -> None:
    with (described_sink(pulse_server, "vlaptop", "Speakers") as speakers,
          described_sink(pulse_server, "vbt", "Headset") as headset,
          null_source(pulse_server, "vmic2", "USB-Mic")):
        devices = PulseDeviceProvider().list_devices()
    system = [d for d in devices if d.kind == SYSTEM_AUDIO]
    microphones = [d for d in devices if d.kind == MICROPHONE]
    assert by_id(devices, speakers.monitor).name == "Sound from Speakers"
    assert by_id(devices, headset.monitor).name == "Sound from Headset"
    assert by_id(devices, "vmic2").name == "USB-Mic" and by_id(devices, "vmic2") in microphones
    assert {speakers.monitor, headset.monitor} <= {d.id for d in system}
    assert all(d.is_monitor for d in system) and not any(d.is_monitor for d in microphones)
    # Microphones before system audio (after the default, which leads whatever it is).
    rest = [d for d in devices if not d.is_default]
    kinds = [d.kind for d in rest]
    assert kinds == sorted(kinds, key=lambda kind: kind == SYSTEM_AUDIO)


async def test_sound_played_into_an_output_is_captured_from_its_listed_system_audio(
    pulse_server: PulseServer,
) -> None:
    rec = CaptureSink()
    with described_sink(pulse_server, "vplayback", "Laptop-Speakers", rate=44_100,
                        channels=2) as sink:
        listed = await asyncio.to_thread(PulseDeviceProvider().list_devices)
        device = by_id(listed, sink.monitor)
        assert (device.kind, device.name) == (SYSTEM_AUDIO, "Sound from Laptop-Speakers")
        capture = PyAudioCapture(device, on_frame=rec.frame, on_error=rec.error)
        async with recording(capture):
            await rec.wait_more(2)
            with playing(pulse_server, HELLO, sink) as player:
                await finished(player)
            await rec.wait_more(10)
    reference, captured = read_pcm(HELLO), rec.pcm
    assert ncc_at(captured, reference, best_lag(captured, reference)) > 0.99
    assert capture.dropped_frames == 0 and not rec.errors


def test_the_default_outputs_sound_leads_system_audio_and_makes_the_combined_entry(
    pulse_server: PulseServer,
) -> None:
    before = pulse_server.pactl("get-default-sink")
    with (described_sink(pulse_server, "vaaa", "Alpha") as alpha,
          described_sink(pulse_server, "vzzz", "Zulu") as zulu,
          null_source(pulse_server, "vmic3", "Desk-Mic")):
        try:
            for default in (zulu, alpha):
                pulse_server.pactl("set-default-sink", default.name)
                devices = PulseDeviceProvider().list_devices()
                system = [d for d in devices if d.kind == SYSTEM_AUDIO and not d.is_default]
                assert system[0].id == default.monitor
                both = with_both(devices)[-1]
                assert [d.id for d in both.parts] == ["vmic3", default.monitor]
        finally:
            pulse_server.pactl("set-default-sink", before)
