"""WavFileSource: files of any rate, channel count and width become 16 kHz mono 50 ms frames."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from app.core.audio import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, WAKE_MS
from app.core.errors import AudioError
from app.core.signal import Level
from app.core.sources import AudioSource
from app.io.audio.file_source import WavFileSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


class Collector:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.stamps: list[float] = []
        self.levels: list[Level] = []
        self.errors: list[AudioError] = []
        self.enough = asyncio.Event()
        self.enough_at = 0

    def frame(self, data: bytes) -> None:
        self.frames.append(data)
        self.stamps.append(asyncio.get_running_loop().time())
        if self.enough_at and len(self.frames) >= self.enough_at:
            self.enough.set()

    def level(self, level: Level) -> None:
        self.levels.append(level)

    def error(self, error: AudioError) -> None:
        self.errors.append(error)

    @property
    def pcm(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2")


def tone(rate: int, seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return np.round(20_000 * np.sin(2 * np.pi * freq * t)).astype("<i2")


def write_wav(path: Path, frames: bytes, *, rate: int, channels: int, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


def stereo_tone_wav(path: Path, rate: int, seconds: float) -> Path:
    mono = tone(rate, seconds)
    return write_wav(path, np.column_stack([mono, mono]).reshape(-1).astype("<i2").tobytes(),
                     rate=rate, channels=2)


async def play_to_end(source: WavFileSource, within: float) -> None:
    await source.start()
    await asyncio.wait_for(source.wait_finished(), within)
    await source.stop()


async def test_44k1_stereo_becomes_16k_mono_frames_of_the_same_duration(tmp_path: Path) -> None:
    path = stereo_tone_wav(tmp_path / "tone.wav", 44_100, 3.0)
    out = Collector()
    source = WavFileSource(path, on_frame=out.frame, on_level=out.level, on_error=out.error,
                           realtime=False)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await play_to_end(source, within=10)
    assert loop.time() - began < 1.5  # as fast as possible: far quicker than the 3 s it lasts
    assert source.stream_format == (44_100, 2)
    assert out.frames and all(len(frame) == FRAME_BYTES for frame in out.frames)
    assert abs(len(out.frames) * FRAME_SAMPLES - 48_000) <= FRAME_SAMPLES
    expected, got = tone(16_000, 3.0).astype(float), out.pcm[:48_000].astype(float)
    core = slice(400, -400)  # the resampler's edges
    ncc = np.dot(got[core], expected[core]) / np.sqrt(
        np.dot(got[core], got[core]) * np.dot(expected[core], expected[core]))
    assert ncc > 0.999
    assert source.frames_delivered == len(out.frames)
    assert source.dropped_frames == 0 and source.overflows == 0 and not out.errors
    assert out.levels and max(lv.peak_dbfs for lv in out.levels) == pytest.approx(-4.3, abs=0.2)


async def test_a_16k_mono_file_comes_out_bit_exact(tmp_path: Path) -> None:
    out = Collector()
    await play_to_end(WavFileSource(FIXTURES / "hello.wav", on_frame=out.frame, realtime=False),
                      within=10)
    with wave.open(str(FIXTURES / "hello.wav"), "rb") as wav:
        reference = wav.readframes(wav.getnframes())
    assert b"".join(out.frames) == reference.ljust(len(out.frames) * FRAME_BYTES, b"\x00")


async def test_uneven_rate_keeps_its_duration(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "odd.wav", tone(22_050, 1.3).tobytes(), rate=22_050, channels=1)
    out = Collector()
    await play_to_end(WavFileSource(path, on_frame=out.frame, realtime=False), within=10)
    assert abs(len(out.frames) * FRAME_SAMPLES - round(1.3 * 16_000)) <= FRAME_SAMPLES


@pytest.mark.parametrize("width", [1, 3, 4])
async def test_8_24_and_32_bit_files_are_converted_to_16_bit(tmp_path: Path, width: int) -> None:
    s16 = tone(16_000, 0.2)
    if width == 1:
        raw = ((s16.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
        want = ((s16.astype(np.int32) >> 8) << 8).astype("<i2")
    else:
        wide = s16.astype("<i4") << (8 * (width - 2))
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in wide)
        want = s16
    path = write_wav(tmp_path / f"w{width}.wav", raw, rate=16_000, channels=1, width=width)
    out = Collector()
    await play_to_end(WavFileSource(path, on_frame=out.frame, realtime=False), within=10)
    assert np.array_equal(out.pcm[: len(want)], want)


async def test_realtime_pacing_never_runs_ahead_of_the_clock(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "one_second.wav", tone(16_000, 1.0).tobytes(), rate=16_000,
                     channels=1)
    out = Collector()
    source = WavFileSource(path, on_frame=out.frame)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await play_to_end(source, within=5)
    ended = loop.time()
    assert len(out.frames) == 20
    assert out.stamps == sorted(out.stamps)
    # The file is handed over a wake-up period (WAKE_MS, two frames) at a time: frame i no
    # earlier than i // 2 periods after the start. Pacing can only be late (a busy loop),
    # never early. The upper bound is deliberately loose.
    per_wake = WAKE_MS // FRAME_MS
    assert all(stamp >= began + (i // per_wake) * WAKE_MS / 1000 - 0.001
               for i, stamp in enumerate(out.stamps))
    assert 0.95 <= ended - began < 3.0


async def test_stop_midway_delivers_what_was_read_and_finishes(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "long.wav", tone(16_000, 5.0).tobytes(), rate=16_000,
                     channels=1)
    out = Collector()
    source: AudioSource = WavFileSource(path, on_frame=out.frame)
    assert isinstance(source, WavFileSource)
    out.enough_at = 4
    await source.start()
    await asyncio.wait_for(out.enough.wait(), 3)
    await source.stop()
    assert source.finished.is_set()
    assert 4 <= len(out.frames) < 100
    count = len(out.frames)
    await source.stop()  # harmless twice
    assert len(out.frames) == count


async def test_not_a_wav_file_fails_to_start(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    source = WavFileSource(path, on_frame=lambda _: None)
    with pytest.raises(AudioError) as caught:
        await source.start()
    assert "notes.wav could not be read as a WAV file" in caught.value.message
    assert caught.value.remedy


async def test_missing_file_fails_to_start(tmp_path: Path) -> None:
    with pytest.raises(AudioError):
        await WavFileSource(tmp_path / "absent.wav", on_frame=lambda _: None).start()
