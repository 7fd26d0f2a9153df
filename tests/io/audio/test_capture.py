"""PyAudioCapture against a real (private) PulseAudio server through real PortAudio.

``paplay`` into a null sink is someone speaking; the sink's monitor is the microphone. Nothing
here is mocked: these tests open the same ALSA ``pulse`` device the app opens on a desktop.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import wave
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import numpy as np
import pytest

from app.core.devices import InputDevice
from app.core.errors import AudioError
from app.core.signal import Level
from app.io.audio.capture import PyAudioCapture
from tests.support.pulse import PulseServer, VirtualSink

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HELLO = FIXTURES / "hello.wav"
WEATHER = FIXTURES / "weather.wav"
# The session's default microphone; loaded by the fixture, never unloaded here.
VSPEAKER = VirtualSink("vspeaker", -1, 16_000, 1)


# --- helpers ---------------------------------------------------------------------------------


class CaptureSink:
    """Collects what a capture delivers and lets a test wait for it (with timeouts)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.levels: list[Level] = []
        self.errors: list[AudioError] = []
        self.failed = asyncio.Event()
        self._waiters: list[tuple[int, asyncio.Event]] = []

    def frame(self, data: bytes) -> None:
        self.frames.append(data)
        for target, event in self._waiters:
            if len(self.frames) >= target:
                event.set()

    def level(self, level: Level) -> None:
        self.levels.append(level)

    def error(self, error: AudioError) -> None:
        self.errors.append(error)
        self.failed.set()

    async def wait_frames(self, count: int, within: float = 3.0) -> None:
        event = asyncio.Event()
        self._waiters.append((count, event))
        if len(self.frames) >= count:
            event.set()
        await asyncio.wait_for(event.wait(), within)

    async def wait_more(self, count: int, within: float = 3.0) -> None:
        await self.wait_frames(len(self.frames) + count, within)

    @property
    def pcm(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2")


def read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def first_sound(pcm: np.ndarray) -> int:
    nonzero = np.flatnonzero(pcm)
    assert nonzero.size, "no sound at all was captured"
    return int(nonzero[0])


def best_lag(captured: np.ndarray, reference: np.ndarray) -> int:
    """Offset of ``reference`` inside ``captured`` by FFT cross-correlation."""
    size = 1 << math.ceil(math.log2(len(captured) + len(reference)))
    spectrum = np.fft.rfft(captured.astype(float), size) * np.conj(
        np.fft.rfft(reference.astype(float), size))
    correlation = np.fft.irfft(spectrum, size)[: len(captured)]
    return int(np.argmax(correlation))


def ncc_at(captured: np.ndarray, reference: np.ndarray, lag: int) -> float:
    """Normalised correlation of ``reference`` with ``captured`` shifted by ``lag``."""
    segment = captured[lag : lag + len(reference)].astype(float)
    ref = reference[: len(segment)].astype(float)
    return float(np.dot(segment, ref) / np.sqrt(np.dot(segment, segment) * np.dot(ref, ref)))


def pulse_device(sink: VirtualSink) -> InputDevice:
    return InputDevice(id=sink.monitor, name=f"Monitor of {sink.name}", host_api="PulseAudio",
                       channels=sink.channels, default_rate=sink.rate, is_monitor=True)


@contextmanager
def loaded_sink(server: PulseServer, name: str, **spec: int) -> Iterator[VirtualSink]:
    sink = server.load_sink(name, **spec)
    try:
        yield sink
    finally:
        if name in server.pactl("list", "short", "sinks"):
            server.unload(sink)


@contextmanager
def playing(server: PulseServer, wav: Path, sink: VirtualSink) -> Iterator[subprocess.Popen[bytes]]:
    player = server.play(wav, sink)
    try:
        yield player
    finally:
        if player.poll() is None:
            player.kill()
        player.wait(5)
        if player.stderr is not None:
            player.stderr.close()


async def finished(player: subprocess.Popen[bytes]) -> None:
    assert await asyncio.to_thread(player.wait, 10) == 0


@asynccontextmanager
async def recording(capture: PyAudioCapture) -> AsyncIterator[PyAudioCapture]:
    await capture.start()
    try:
        yield capture
    finally:
        await capture.stop()
    assert not capture.is_open


def write_sine(path: Path, *, seconds: float = 1.0, rate: int = 16_000) -> Path:
    t = np.arange(round(rate * seconds)) / rate
    samples = np.round(32767 * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return path


# --- tests -----------------------------------------------------------------------------------


async def test_16k_mono_default_mic_is_bit_exact(pulse_server: PulseServer) -> None:
    rec = CaptureSink()
    capture = PyAudioCapture(None, on_frame=rec.frame, on_error=rec.error)
    async with recording(capture):
        assert capture.is_open
        assert capture.stream_format == (16_000, 1)
        await rec.wait_more(2)  # the stream runs before anyone speaks
        with playing(pulse_server, HELLO, VSPEAKER) as player:
            await finished(player)
        await rec.wait_more(10)  # 0.5 s more: the tail has come through PortAudio
    reference, captured = read_pcm(HELLO), rec.pcm
    assert all(len(frame) == 1600 for frame in rec.frames)
    offset = first_sound(captured) - first_sound(reference)
    assert offset >= 0
    assert np.array_equal(captured[offset : offset + len(reference)], reference)
    assert not captured[:offset].any() and not captured[offset + len(reference) :].any()
    assert capture.dropped_frames == 0 and capture.overflows == 0 and not rec.errors
    assert capture.frames_delivered == len(rec.frames)


async def test_48k_stereo_device_is_downmixed_and_resampled_by_the_pump(
    pulse_server: PulseServer,
) -> None:
    rec = CaptureSink()
    with loaded_sink(pulse_server, "v48", rate=48_000, channels=2) as sink:
        capture = PyAudioCapture(pulse_device(sink), on_frame=rec.frame, on_error=rec.error,
                                 prefer_wire_format=False)
        async with recording(capture):
            assert capture.stream_format == (48_000, 2)  # PortAudio delivers the native format
            await rec.wait_more(2)
            with playing(pulse_server, HELLO, sink) as player:
                await finished(player)
            await rec.wait_more(10)
    reference, captured = read_pcm(HELLO), rec.pcm
    assert all(len(frame) == 1600 for frame in rec.frames)
    assert ncc_at(captured, reference, best_lag(captured, reference)) > 0.99
    assert capture.dropped_frames == 0 and capture.overflows == 0 and not rec.errors


async def test_records_the_chosen_source_not_the_default(
    pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    default_before = pulse_server.default_source()
    # A value already in the environment must win back after the open, and must not leak in.
    monkeypatch.setenv("PULSE_SOURCE", "va.monitor")
    rec = CaptureSink()
    with loaded_sink(pulse_server, "va") as sink_a, loaded_sink(pulse_server, "vb") as sink_b:
        capture = PyAudioCapture(pulse_device(sink_b), on_frame=rec.frame, on_error=rec.error)
        async with recording(capture):
            assert os.environ["PULSE_SOURCE"] == "va.monitor"
            await rec.wait_more(2)
            with playing(pulse_server, HELLO, sink_a) as hello, \
                    playing(pulse_server, WEATHER, sink_b) as weather:
                await finished(hello)
                await finished(weather)
            await rec.wait_more(10)
    captured, weather_ref, hello_ref = rec.pcm, read_pcm(WEATHER), read_pcm(HELLO)
    assert ncc_at(captured, weather_ref, best_lag(captured, weather_ref)) > 0.99
    assert ncc_at(captured, hello_ref, best_lag(captured, hello_ref)) < 0.5
    offset = first_sound(captured) - first_sound(weather_ref)
    assert np.array_equal(captured[offset : offset + len(weather_ref)], weather_ref)
    assert pulse_server.default_source() == default_before == "vspeaker.monitor"


async def test_unplugged_source_reports_an_error_within_2_s(pulse_server: PulseServer) -> None:
    loop = asyncio.get_running_loop()
    rec = CaptureSink()
    with loaded_sink(pulse_server, "vgone") as sink:
        capture = PyAudioCapture(pulse_device(sink), on_frame=rec.frame, on_error=rec.error)
        await capture.start()
        try:
            with playing(pulse_server, HELLO, sink):
                await rec.wait_more(10)
                kept = len(rec.frames)
                await asyncio.to_thread(pulse_server.unload, sink)
                unplugged = loop.time()
                await asyncio.wait_for(rec.failed.wait(), 2.0)
                assert loop.time() - unplugged < 2.0
        finally:
            await capture.stop()  # waits for the clean-up the failure started; never raises
    assert not capture.is_open
    [error] = rec.errors
    assert isinstance(error, AudioError)
    assert "stopped delivering audio" in error.message and "Monitor of vgone" in error.message
    assert len(rec.frames) >= kept and rec.pcm.any()  # what came before the unplug is kept
    await capture.stop()  # a second stop is harmless


async def test_a_frozen_sound_server_is_detected_as_a_stall(pulse_server: PulseServer) -> None:
    """Frozen for good (a short freeze is recovered from: test_capture_recovery.py): once the
    stalled stream cannot even be closed, the capture ends with the stall error."""
    pid = int((pulse_server.runtime_dir / "pid").read_text().split()[0])
    rec = CaptureSink()
    capture = PyAudioCapture(None, on_frame=rec.frame, on_error=rec.error)
    await capture.start()
    try:
        await rec.wait_more(4)
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.wait_for(rec.failed.wait(), 20.0)  # a hang guard
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        await capture.stop()
    assert not capture.is_open
    assert "no audio for" in rec.errors[0].message
    pulse_server.pactl("info")  # the server is fine for the tests after this one


async def test_level_meter_silence_and_full_scale_sine(
    pulse_server: PulseServer, tmp_path: Path,
) -> None:
    sine = write_sine(tmp_path / "sine1k.wav")
    rec = CaptureSink()
    async with recording(PyAudioCapture(None, on_frame=rec.frame, on_level=rec.level)):
        await rec.wait_more(6)
        silence = list(rec.levels)
        with playing(pulse_server, sine, VSPEAKER) as player:
            await finished(player)
        await rec.wait_more(6)
    assert silence and all(lv.rms_dbfs < -60 and lv.peak_dbfs < -60 for lv in silence)
    assert max(lv.peak_dbfs for lv in rec.levels) > -1.0
    assert max(lv.rms_dbfs for lv in rec.levels) == pytest.approx(-3.01, abs=0.3)


async def test_portaudio_device_ids_are_matched_by_host_api_and_name(
    pulse_server: PulseServer,
) -> None:
    rec = CaptureSink()
    device = InputDevice(id="ALSA:pulse", name="pulse", host_api="ALSA", channels=32,
                         default_rate=44_100)
    async with recording(PyAudioCapture(device, on_frame=rec.frame)) as capture:
        assert capture.stream_format == (16_000, 1)
        await rec.wait_more(3)
    async with recording(PyAudioCapture(device, on_frame=rec.frame,
                                        prefer_wire_format=False)) as native:
        assert native.stream_format == (44_100, 2)  # PortAudio's default rate, capped channels
        await rec.wait_more(3)


@pytest.mark.parametrize("device", [
    InputDevice(id="nowhere.monitor", name="Nowhere", host_api="PulseAudio", channels=1,
                default_rate=16_000),
    InputDevice(id="ALSA:no such card", name="No such card", host_api="ALSA", channels=1,
                default_rate=16_000),
])
async def test_a_missing_device_fails_to_start_with_a_plain_sentence(
    pulse_server: PulseServer, device: InputDevice,
) -> None:
    capture = PyAudioCapture(device, on_frame=lambda _: None)
    with pytest.raises(AudioError) as caught:
        await capture.start()
    assert caught.value.message == f'The microphone "{device.name}" is not connected.'
    assert caught.value.remedy
    assert not capture.is_open
    await capture.stop()


async def test_start_twice_is_a_usage_error(pulse_server: PulseServer) -> None:
    rec = CaptureSink()
    async with recording(PyAudioCapture(None, on_frame=rec.frame)) as capture:
        with pytest.raises(RuntimeError):
            await capture.start()
        await rec.wait_more(1)
    # A stopped capture can record again, with fresh counters.
    async with recording(capture):
        await rec.wait_more(2)
        assert capture.overflows == 0
