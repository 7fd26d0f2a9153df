"""The two voices' taps over two real file sources: each stream gets its own device's frames
until the switch; from then on You's tap gets both summed (clipped, nothing lost, its frame
count unbroken) and Others' tap ends."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from app.core.errors import AudioError
from app.core.recording import SourceFactory
from app.core.signal import Level, samples_s16
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import OTHERS, YOU
from app.io.audio.file_source import WavFileSource
from app.io.audio.voice_taps import VoiceTaps

FRAMES = 60  # 3 s of 50 ms frames per file, played in real time: both devices keep pace
SWITCH_AT = 20  # You's frame after which the mix begins


def _constant_wav(path: Path, value: int, frames: int = FRAMES) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(value.to_bytes(2, "little", signed=True) * 800 * frames)
    return path


def _file(path: Path, realtime: bool = True) -> SourceFactory:
    def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
        return WavFileSource(path, on_frame=on_frame, on_level=on_level, on_error=on_error,
                             realtime=realtime)
    return build


class _Stream:
    def __init__(self) -> None:
        self.values: list[set[int]] = []  # the distinct sample values of each frame
        self.levels: list[Level] = []
        self.errors: list[AudioError] = []

    def frame(self, pcm: bytes) -> None:
        self.values.append(set(samples_s16(pcm)))


async def test_the_switch_sums_both_devices_into_yous_stream_and_ends_others(
    tmp_path: Path,
) -> None:
    taps = VoiceTaps(_file(_constant_wav(tmp_path / "you.wav", 1000)),
                     _file(_constant_wav(tmp_path / "others.wav", 32_000)),
                     max_skew_frames=FRAMES)
    you, others = _Stream(), _Stream()
    switched: list[int | None] = []

    def you_frame(pcm: bytes) -> None:
        you.frame(pcm)
        if len(you.values) == SWITCH_AT:
            switched.append(taps.mix())

    you_tap = taps.tap(YOU)(you_frame, you.levels.append, you.errors.append)
    others_tap = taps.tap(OTHERS)(others.frame, others.levels.append, others.errors.append)
    await asyncio.gather(you_tap.start(), others_tap.start())
    await asyncio.wait_for(others_tap.wait_ended(), 30)  # Others' tap ends at the switch
    await asyncio.wait_for(you_tap.wait_ended(), 30)  # You's when both files have been read
    await others_tap.stop()
    await you_tap.stop()

    assert switched == [SWITCH_AT * 50] and taps.mixed and taps.mix() is None
    assert you.values[:SWITCH_AT] == [{1000}] * SWITCH_AT
    mixed = you.values[SWITCH_AT:]
    assert {32_767} in mixed  # summed, clipped at full scale
    assert all(v in ({1000}, {32_000}, {32_767}) for v in mixed)
    # Every frame of both files went somewhere exactly once: You's alone, Others' alone
    # before the switch, and the rest paired (or alone, once one file had run out).
    assert SWITCH_AT + len(mixed) == you_tap.frames_delivered
    paired = sum(1 for v in mixed if v == {32_767})
    assert len(others.values) + paired + sum(1 for v in mixed if v == {32_000}) == FRAMES
    assert SWITCH_AT + paired + sum(1 for v in mixed if v == {1000}) == FRAMES
    assert not you.errors and not others.errors
    assert len(you.levels) >= len(mixed)  # the mix's own level, measured frame by frame


async def test_without_a_switch_each_stream_gets_only_its_own_device(tmp_path: Path) -> None:
    taps = VoiceTaps(_file(_constant_wav(tmp_path / "you.wav", 7), realtime=False),
                     _file(_constant_wav(tmp_path / "others.wav", -9, FRAMES // 2),
                           realtime=False))
    you, others = _Stream(), _Stream()
    you_tap = taps.tap(YOU)(you.frame, you.levels.append, you.errors.append)
    others_tap = taps.tap(OTHERS)(others.frame, others.levels.append, others.errors.append)
    await asyncio.gather(you_tap.start(), others_tap.start())
    await asyncio.wait_for(asyncio.gather(you_tap.wait_ended(), others_tap.wait_ended()), 30)
    await asyncio.gather(you_tap.stop(), others_tap.stop())
    assert you.values == [{7}] * FRAMES and others.values == [{-9}] * (FRAMES // 2)
    assert taps.mix() is None  # both have ended: nothing left to switch
