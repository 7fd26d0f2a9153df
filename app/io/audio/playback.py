"""What every file source shares: the callbacks, the "finished" event, the counters of the
:class:`app.core.sources.AudioSource` port, and stopping. Subclasses open their file in
``start`` and run ``_task`` (a coroutine that hands 50 ms pieces to ``_pump`` and sets
``_finished`` at the end, whatever ended it)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from app.core.errors import AudioError
from app.core.sources import ErrorSink, FrameSink, LevelSink
from app.io.audio.pump import AudioPump

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class FilePlayback:
    def __init__(
        self,
        path: Path,
        *,
        on_frame: FrameSink,
        on_level: LevelSink | None = None,
        on_error: ErrorSink | None = None,
        realtime: bool = True,
        room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``realtime`` paces 50 ms per 50 ms of loop time, as a microphone would; otherwise
        the file goes as fast as ``room`` — the consumer's back-pressure
        (``Recorder.room_for_audio``), awaited before each piece — allows, so no audio is
        ever dropped on the way however slow the engine is."""
        self.path = path
        self.realtime = realtime
        self._room = room
        self._on_frame = on_frame
        self._on_level = on_level
        self._on_error = on_error
        self._pump: AudioPump | None = None
        self._task: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        # One reader thread per source, first in first out: the file is closed in the same
        # thread after the last read, so a stop can never close it under a read in progress
        # (PyAV crashes when a container is closed while another thread decodes from it).
        self._reader = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="file-reader")

    async def _read(self, read: Callable[..., _T], *args: object) -> _T:
        """``read(*args)`` in the reader thread. A cancelled caller stops waiting; the read
        itself finishes, and :meth:`_close_after_reads` runs after it."""
        return await asyncio.shield(asyncio.wrap_future(self._reader.submit(read, *args)))

    def _close_after_reads(self, close: Callable[[], None]) -> None:
        self._reader.submit(close)
        self._reader.shutdown(wait=False)

    @property
    def finished(self) -> asyncio.Event:
        """Set once the whole file (or, after stop or an error, all that was read) has gone to
        ``on_frame``."""
        return self._finished

    async def wait_finished(self) -> None:
        await self._finished.wait()

    @property
    def ends_by_itself(self) -> bool:
        return True

    async def wait_ended(self) -> None:
        await self._finished.wait()

    @property
    def dropped_frames(self) -> int:
        return 0 if self._pump is None else self._pump.dropped_frames

    @property
    def overflows(self) -> int:
        return 0  # a file cannot overrun

    @property
    def frames_delivered(self) -> int:
        return 0 if self._pump is None else self._pump.frames_delivered

    def _check_not_started(self) -> None:
        if self._task is not None:
            raise RuntimeError("this file source was already started")

    async def stop(self) -> None:
        """Stop early (or after the end) and deliver what was already read; never raises."""
        task = self._task
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])

    def _report(self, error: AudioError) -> None:
        log.warning("%s", error)
        if self._on_error is not None:
            self._on_error(error)
