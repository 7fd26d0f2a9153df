"""The mixed stream of "Microphone + system audio" (used where two streams cannot run): two
real file sources summed frame by frame, clipped, nothing lost when one part runs ahead."""

from __future__ import annotations

import asyncio
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from random import Random

import pytest

from app.core import mixing
from app.core.errors import AudioError
from app.core.signal import Level, bytes_s16, level_dbfs, samples_s16
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.io.audio.file_source import WavFileSource
from app.io.audio.level import level_of
from app.io.audio.mixed_source import MixedSource, mix_s16

FIXTURES = Path(__file__).parents[2] / "fixtures"


def _frame(*values: int) -> bytes:
    return bytes_s16(array("h", values))


@pytest.mark.parametrize(("a", "b", "mixed"), [
    ((0, 1, -1), (0, 2, -2), (0, 3, -3)),
    ((30_000, -30_000), (10_000, -10_000), (32_767, -32_768)),  # clipped, never wrapped
    ((), (), ()),
])
def test_mix_s16_sums_and_clips(a: tuple[int, ...], b: tuple[int, ...],
                                mixed: tuple[int, ...]) -> None:
    assert list(samples_s16(mix_s16(_frame(*a), _frame(*b)))) == list(mixed)


def test_mix_s16_refuses_frames_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        mix_s16(_frame(1, 2), _frame(1))


def _pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


SourceFactoryFor = Callable[[Path], Callable[[FrameSink, LevelSink, ErrorSink], AudioSource]]


def _file_part(parts: list[WavFileSource]) -> SourceFactoryFor:
    def part(path: Path) -> Callable[[FrameSink, LevelSink, ErrorSink], AudioSource]:
        def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
            source = WavFileSource(path, on_frame=on_frame, on_level=on_level,
                                   on_error=on_error, realtime=False)
            parts.append(source)
            return source
        return build
    return part


async def test_two_files_mixed_are_the_clipped_sum_of_both_frame_by_frame() -> None:
    you, others = FIXTURES / "hello.wav", FIXTURES / "boat.wav"  # of different lengths
    parts: list[WavFileSource] = []
    part = _file_part(parts)
    frames: list[bytes] = []
    levels: list[Level] = []
    errors: list[AudioError] = []
    # Files run as fast as they can, so one may get far ahead: allow any skew here.
    mixed = MixedSource((part(you), part(others)), on_frame=frames.append,
                        on_level=levels.append, on_error=errors.append,
                        max_skew_frames=10_000)
    await mixed.start()
    await asyncio.wait_for(asyncio.gather(*(p.wait_ended() for p in parts)), 30)
    await mixed.stop()

    a, b = _pcm(you), _pcm(others)
    size = 1600
    a_frames = [a[i:i + size].ljust(size, b"\0") for i in range(0, len(a), size)]
    b_frames = [b[i:i + size].ljust(size, b"\0") for i in range(0, len(b), size)]
    assert len(frames) == max(len(a_frames), len(b_frames)) == mixed.frames_delivered
    expected = [mix_s16(x, y) for x, y in zip(a_frames, b_frames, strict=False)]
    longer = a_frames if len(a_frames) > len(b_frames) else b_frames
    expected += longer[len(expected):]  # the longer part goes on alone
    assert frames == expected
    assert len(levels) == len(frames) and not errors
    assert mixed.dropped_frames == 0


async def test_a_part_that_delivers_nothing_does_not_hold_the_other_back(tmp_path: Path) -> None:
    silent = tmp_path / "nothing.wav"
    with wave.open(str(silent), "wb") as out:  # a part that never delivers a frame
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
    parts: list[WavFileSource] = []
    part = _file_part(parts)
    frames: list[bytes] = []
    mixed = MixedSource((part(silent), part(FIXTURES / "hello.wav")), on_frame=frames.append,
                        on_level=lambda _level: None, on_error=lambda _error: None,
                        max_skew_frames=10)
    await mixed.start()
    await asyncio.wait_for(asyncio.gather(*(p.wait_ended() for p in parts)), 30)
    held = len(frames)
    await mixed.stop()
    pcm = _pcm(FIXTURES / "hello.wav")
    expected = [pcm[i:i + 1600].ljust(1600, b"\0") for i in range(0, len(pcm), 1600)]
    assert frames == expected  # the other part's audio, alone and whole
    assert held == len(expected) - 10  # before Stop, at most max_skew_frames waited


def test_the_vectorised_sum_and_level_match_the_pure_reference() -> None:
    rng = Random(15)
    for scale in (0, 1, 300, 20_000, 32_768):
        a = _frame(*(rng.randint(-scale, max(0, scale - 1)) for _ in range(800)))
        b = _frame(*(rng.randint(-scale, max(0, scale - 1)) for _ in range(800)))
        assert mix_s16(a, b) == mixing.mix_s16(a, b)
        reference, fast = level_dbfs(a), level_of(a)
        assert fast.rms_dbfs == pytest.approx(reference.rms_dbfs, abs=1e-9)
        assert fast.peak_dbfs == pytest.approx(reference.peak_dbfs, abs=1e-9)
    assert level_of(b"") == level_dbfs(b"")
