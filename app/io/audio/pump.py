"""The hand-off from a capture device to the rest of the app, on the event loop's thread.

``put`` is what the PortAudio callback schedules with ``loop.call_soon_threadsafe``: it only
appends to a bounded deque and makes sure one drain is scheduled. The drain converts to the wire
format (downmix, resample), cuts exact 50 ms frames and hands them to the consumer, a bounded
number of chunks per loop iteration, so a backlog after a stall can never starve the loop's
other work (the websocket, the UI). When the backlog exceeds the bound the oldest audio goes:
live transcription wants the newest speech, and memory stays bounded however long the stall.
"""

from __future__ import annotations

import asyncio
from collections import deque

from app.core.audio import SAMPLE_RATE, SAMPLE_WIDTH, FrameChunker, duration_ms
from app.core.signal import Level, downmix_s16
from app.core.sources import FrameSink, LevelSink
from app.io.audio.level import level_of
from app.io.audio.resample import StreamResampler
from app.io.lazy_sleep import beat


class AudioPump:
    """Turns device-format chunks into 16 kHz mono s16le 50 ms frames for ``on_frame``.

    ``in_rate``/``channels`` describe what ``put`` receives (interleaved s16le, whole sample
    frames). ``max_buffer_s`` bounds the audio waiting to be converted; ``max_chunks_per_pass``
    bounds the work done per loop iteration. ``dropped_frames`` counts sample frames (one
    sample per channel, at ``in_rate``) discarded, whether to keep the bound or because they
    arrived after :meth:`flush`.
    """

    def __init__(
        self,
        on_frame: FrameSink,
        on_level: LevelSink | None = None,
        *,
        in_rate: int = SAMPLE_RATE,
        channels: int = 1,
        max_buffer_s: float = 3.0,
        max_chunks_per_pass: int = 8,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if channels < 1:
            raise ValueError("channels must be at least 1")
        if max_buffer_s <= 0 or max_chunks_per_pass < 1:
            raise ValueError("the buffer bound and the per-pass budget must be positive")
        self.in_rate = in_rate
        self.channels = channels
        self._on_frame = on_frame
        self._on_level = on_level
        self._bytes_per_frame = SAMPLE_WIDTH * channels
        self._max_bytes = max(1, round(max_buffer_s * in_rate)) * self._bytes_per_frame
        self._max_chunks_per_pass = max_chunks_per_pass
        self._loop = loop
        self._resampler = StreamResampler(in_rate)
        self._chunker = FrameChunker()
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._drain_scheduled: asyncio.Handle | None = None
        self._flushed = False
        self.chunks_received = 0
        self.dropped_frames = 0
        self.frames_delivered = 0

    @property
    def queued_bytes(self) -> int:
        """Device-format bytes waiting to be converted."""
        return self._queued_bytes

    @property
    def dropped_ms(self) -> float:
        return self.dropped_frames * 1000 / self.in_rate

    @property
    def is_flushed(self) -> bool:
        return self._flushed

    def put(self, data: bytes) -> None:
        """Queue one chunk from the device; call on the loop thread. Never converts inline."""
        if len(data) % self._bytes_per_frame:
            raise ValueError("chunks must hold whole sample frames (one sample per channel)")
        self.chunks_received += 1
        if self._flushed:
            # A callback that raced the stop: its audio comes after the end we already sent.
            self.dropped_frames += len(data) // self._bytes_per_frame
            return
        self._queue.append(data)
        self._queued_bytes += len(data)
        # Keep at least the newest chunk even if it alone exceeds the bound.
        while self._queued_bytes > self._max_bytes and len(self._queue) > 1:
            oldest = self._queue.popleft()
            self._queued_bytes -= len(oldest)
            self.dropped_frames += len(oldest) // self._bytes_per_frame
        if self._drain_scheduled is None:
            loop = self._loop or asyncio.get_running_loop()
            self._drain_scheduled = loop.call_soon(self._drain)

    def put_and_drain(self, data: bytes, level: Level | None = None) -> None:
        """``put``, then one bounded drain pass at once, for a caller that already runs as its
        own loop callback (the capture's ``call_soon_threadsafe`` hand-off, a paced file
        reader): it saves the loop an iteration (a ``select`` call) per hand-off.

        ``level``: the level of ``data``, already found by the caller (a file's reader thread
        meters a whole block at once); reported for this pass instead of metering its frames
        again, unless older chunks were still queued (then the whole pass is metered)."""
        if self._queue or self._flushed:
            self.put(data)
            handle = self._drain_scheduled
            if handle is not None:
                handle.cancel()
                self._drain()
            return
        # Nothing waits: this chunk alone is the pass, with no queue, handle or join.
        if len(data) % self._bytes_per_frame:
            raise ValueError("chunks must hold whole sample frames (one sample per channel)")
        self.chunks_received += 1
        self._deliver(self._chunker.push(self._convert(data)), level)

    def flush(self) -> None:
        """Convert and deliver everything queued, then the resampler's tail and the last
        partial frame (padded with silence). Later ``put`` calls only count as dropped."""
        if self._flushed:
            return
        if self._drain_scheduled is not None:
            self._drain_scheduled.cancel()
            self._drain_scheduled = None
        self._flushed = True
        converted = [self._convert(chunk) for chunk in self._queue]
        self._queue.clear()
        self._queued_bytes = 0
        converted.append(self._resampler.flush())
        frames = self._chunker.push(b"".join(converted))
        tail = self._chunker.flush()
        if tail is not None:
            frames.append(tail)
        self._deliver(frames)

    def _drain(self) -> None:
        self._drain_scheduled = None
        converted: list[bytes] = []
        for _ in range(min(self._max_chunks_per_pass, len(self._queue))):
            chunk = self._queue.popleft()
            self._queued_bytes -= len(chunk)
            converted.append(self._convert(chunk))
        if self._queue:
            # Yield to the loop's other callbacks before the rest of the backlog.
            loop = self._loop or asyncio.get_running_loop()
            self._drain_scheduled = loop.call_soon(self._drain)
        self._deliver(self._chunker.push(b"".join(converted)))

    def _convert(self, chunk: bytes) -> bytes:
        return self._resampler.process(downmix_s16(chunk, self.channels))

    def _deliver(self, frames: list[bytes], level: Level | None = None) -> None:
        if not frames:
            return
        on_frame = self._on_frame
        for frame in frames:
            self.frames_delivered += 1
            on_frame(frame)
        if self._on_level is not None:
            # One reading per pass: ~10 Hz when keeping up, one summary after a backlog.
            if level is None:
                level = level_of(b"".join(frames) if len(frames) > 1 else frames[0])
            self._on_level(level)
        beat()  # periodic checks waiting for a wake-up of the loop can run now

    def __repr__(self) -> str:
        return (f"AudioPump({self.in_rate} Hz x{self.channels}, queued "
                f"{duration_ms(self._queued_bytes, self.in_rate, self.channels):.0f} ms, "
                f"delivered {self.frames_delivered}, dropped {self.dropped_frames})")
