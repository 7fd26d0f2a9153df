"""Two sources heard as one: the microphone and system audio summed into one stream.

Used where two streams cannot run (the offline engine on a machine with too few cores): the
transcript then has no You/Others labels, and the recording says so. Each part delivers its own
50 ms frames on the event loop's thread; a frame goes out once both parts have delivered the one
for the same moment, summed (clipped to 16 bits). A part that falls silent (its device stalls)
does not hold the other back for more than ``max_skew_frames``: the other's frames then go out
alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from app.core.errors import AudioError
from app.core.mixing import S16_MAX, S16_MIN, FrameAligner
from app.core.recording import SourceFactory
from app.core.sources import ErrorSink, FrameSink, LevelSink
from app.io.audio.level import level_of

log = logging.getLogger(__name__)


def mix_s16(a: bytes, b: bytes) -> bytes:
    """The sum of two s16le frames of equal length, clipped to the 16-bit range (vectorised;
    the same result as :func:`app.core.mixing.mix_s16`)."""
    if len(a) != len(b):
        raise ValueError("frames to mix must have the same length")
    summed = np.frombuffer(a, "<i2").astype(np.int32) + np.frombuffer(b, "<i2")
    mixed: bytes = np.clip(summed, S16_MIN, S16_MAX).astype("<i2").tobytes()
    return mixed


class MixedSource:
    """An :class:`AudioSource` that is the sum of ``parts`` (two of them)."""

    def __init__(self, parts: Sequence[SourceFactory], *, on_frame: FrameSink,
                 on_level: LevelSink, on_error: ErrorSink, max_skew_frames: int = 10) -> None:
        if len(parts) != 2:
            raise ValueError("a mixed source mixes two sources")
        self._on_frame = on_frame
        self._on_level = on_level
        self._on_error = on_error
        self._aligner = FrameAligner(max_skew_frames)
        self._delivered = 0
        self._failed = False
        self._sources = [factory(self._taker(i), _no_level, self._part_failed)
                         for i, factory in enumerate(parts)]

    @property
    def dropped_frames(self) -> int:
        return sum(s.dropped_frames for s in self._sources)

    @property
    def overflows(self) -> int:
        return sum(s.overflows for s in self._sources)

    @property
    def frames_delivered(self) -> int:
        return self._delivered

    @property
    def ends_by_itself(self) -> bool:
        return False

    async def wait_ended(self) -> None:
        await self._sources[0].wait_ended()  # a live source: never returns

    async def start(self) -> None:
        await self._sources[0].start()
        try:
            await self._sources[1].start()
        except BaseException:
            await self._sources[0].stop()
            raise

    async def stop(self) -> None:
        for source in self._sources:
            await source.stop()
        for you, others in self._aligner.drain():  # what one part delivered after the other
            self._emit(you, others)

    def _taker(self, index: int) -> FrameSink:
        return lambda pcm: self._take(index, pcm)

    def _take(self, index: int, pcm: bytes) -> None:
        for you, others in self._aligner.take(index, pcm):
            self._emit(you, others)

    def _emit(self, you: bytes | None, others: bytes | None) -> None:
        frame = mix_s16(you, others) if you is not None and others is not None else you or others
        if frame is None:
            return
        self._delivered += 1
        self._on_frame(frame)
        self._on_level(level_of(frame))

    def _part_failed(self, error: AudioError) -> None:
        if not self._failed:  # one sentence for the person, even if both parts fail
            self._failed = True
            self._on_error(error)
        else:
            log.info("the other part of a mixed source failed too: %s", error.message)


def _no_level(_level: object) -> None:
    """The mix's level is measured on the mix itself."""
