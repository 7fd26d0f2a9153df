"""Hands a recording's audio to whichever engine session is current, in order, never dropping.

Every frame from the source goes into :class:`app.core.held_audio.HeldAudio` first. One task
(:meth:`AudioFeeder.run`, owned by the recorder) sends what the current engine has not had
yet: live, that is the newest frame; after a reconnect or a fallback, the whole held audio
from the last finished turn on, then live again. Sending waits for room in the engine
(``room_for_audio``) and keeps within the service's pacing rule (``pace_delay_s``; an engine
whose ``follows_service_pace`` is False — the offline one — has no such rule, so a file goes
as fast as it decodes), so no
bounded queue anywhere drops audio; only the held buffer's own bound can, and that is
counted in ``lost_ms`` and told through ``on_lost`` when it happens: unsent audio the bound
dropped, and — when a new session has to replay — audio the old one had but never finished.

Live audio to an engine that keeps up goes straight from :meth:`AudioFeeder.push` (no wait is
due: nothing unsent before it, no pacing delay, room in the engine), so a hand-off from the
source costs no extra event-loop iteration for waking the task; whatever must wait still goes
through the task, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.core.held_audio import BYTES_PER_MS, HeldAudio, pace_delay_s
from app.core.ports import TranscriptionEngine


class AudioFeeder:
    def __init__(self, held: HeldAudio, *, chunk_ms: int = 1000, max_queued_ms: int = 2000,
                 max_ahead_ms: int = 60_000, throughput: float = 1.25,
                 clock: Callable[[], float] = time.monotonic,
                 on_lost: Callable[[int], None] | None = None) -> None:
        self._held = held
        self._on_lost = on_lost
        self._accounted = 0  # byte position below which audio was finished or counted lost
        self._chunk_bytes = chunk_ms * BYTES_PER_MS
        self._max_queued_ms = max_queued_ms
        self._max_ahead_ms = max_ahead_ms
        self._throughput = throughput
        self._clock = clock
        self._engine: TranscriptionEngine | None = None
        self._engine_queued_ms: Callable[[], int] | None = None
        self._sent = 0  # recording byte position handed to the current engine
        self._session_sent = 0  # bytes handed to the current engine
        self._session_began = clock()
        self._paced = True
        self._idle = asyncio.Event()  # the task waits for a push (not mid-way through sending)
        self._wake = asyncio.Event()
        self._caught_up = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.lost_ms = 0  # held audio dropped before any engine had it

    @property
    def behind_ms(self) -> int:
        """Audio held that the current engine (or the next one) has not had yet."""
        return max(0, self._held.end_byte - self._sent) // BYTES_PER_MS

    @property
    def unfinished_ms(self) -> int:
        """Audio no engine has finished with and not yet counted as lost: the tail a session
        that fails at Stop leaves untranscribed."""
        floor = max(self._held.acked_byte, self._accounted)
        return max(0, self._held.end_byte - floor) // BYTES_PER_MS

    @property
    def session_sent_ms(self) -> int:
        """Audio handed to the current engine since it was attached."""
        return self._session_sent // BYTES_PER_MS

    @property
    def held_ms(self) -> int:
        """Audio held from the last finished turn on: what a new session would hear again."""
        return self._held.held_ms

    def push(self, pcm: bytes) -> None:
        """One frame from the source (event loop thread). Never blocks."""
        caught_up = self._idle.is_set() and self._sent == self._held.end_byte
        self._held.append(pcm)
        if caught_up and self._send_live():
            return
        self._caught_up.clear()
        self._wake.set()

    def _send_live(self) -> bool:
        """Send the newest audio now if nothing need wait for it; False: leave it to the task."""
        engine, held, queued_ms = self._engine, self._held, self._engine_queued_ms
        if (engine is None or queued_ms is None or not engine.state.is_active
                or self._sent < held.start_byte or queued_ms() >= self._max_queued_ms):
            return False
        # The pacing rule only ever delays a session sent more than max_ahead_ms in all, so
        # the sum (and the clock read) is skipped until then: this runs on every hand-off.
        if (self._paced and self._session_sent // BYTES_PER_MS >= self._max_ahead_ms
                and pace_delay_s(self._session_sent // BYTES_PER_MS,
                                 self._clock() - self._session_began,
                                 throughput=self._throughput,
                                 max_ahead_ms=self._max_ahead_ms) > 0):
            return False
        chunk = held.read(self._sent, self._chunk_bytes)
        if self._sent + len(chunk) != held.end_byte:
            return False  # more than one chunk: the task sends it, chunk by chunk
        engine.send_audio(chunk)
        self._sent += len(chunk)
        self._session_sent += len(chunk)
        self._room.set()
        return True

    def attach(self, engine: TranscriptionEngine) -> int:
        """Feed ``engine`` from the start of the held audio; returns that position (ms) on the
        recording's timeline, the offset of the engine's times."""
        self._count_lost(self._held.start_byte, self._held.acked_byte)  # a replay's hole
        offset_ms = self._held.begin_session()
        self._engine = engine
        # An engine that cannot say how much it has queued gets its audio from the task.
        self._engine_queued_ms = getattr(engine, "queued_ms", None)
        self._paced = getattr(engine, "follows_service_pace", True)
        self._sent = self._held.start_byte
        self._session_sent = 0
        self._session_began = self._clock()
        self._wake.set()
        return offset_ms

    def detach(self) -> None:
        self._engine = None
        self._engine_queued_ms = None

    def acknowledge(self, session_ms: int) -> None:
        """The current engine finished everything before ``session_ms`` (its own time)."""
        self._held.acknowledge(session_ms)

    def _count_lost(self, up_to: int, floor: int) -> None:
        """Audio from ``floor`` (or what is already accounted for) to ``up_to`` is gone."""
        start = max(floor, self._accounted)
        if up_to <= start:
            return
        lost_ms = (up_to - start) // BYTES_PER_MS
        self._accounted = up_to
        self.lost_ms += lost_ms
        if lost_ms and self._on_lost is not None:
            self._on_lost(lost_ms)

    async def room_for_audio(self, max_behind_ms: int = 5000) -> None:
        """Back-pressure for sources that can wait (files): return once less than
        ``max_behind_ms`` of audio waits for an engine."""
        while self.behind_ms >= max_behind_ms:
            self._room.clear()
            await self._room.wait()

    async def wait_idle(self) -> None:
        """Return once the feeder's task waits for new audio: it has sent all it could."""
        await self._idle.wait()

    async def wait_caught_up(self) -> None:
        """Return once the current engine has had every frame pushed so far."""
        while self.behind_ms > 0 or self._engine is None:
            self._caught_up.clear()
            await self._caught_up.wait()

    async def run(self) -> None:
        try:
            while True:
                self._idle.set()
                await self._wake.wait()
                self._idle.clear()
                self._wake.clear()
                await self._send_available()
        finally:
            self._idle.clear()

    async def _send_available(self) -> None:
        held = self._held
        while (engine := self._engine) is not None and self._sent < held.end_byte:
            if self._sent < held.start_byte:  # the held buffer's bound dropped unsent audio
                self._count_lost(held.start_byte, self._sent)
                self._sent = held.start_byte
            delay = pace_delay_s(self._session_sent // BYTES_PER_MS,
                                 self._clock() - self._session_began,
                                 throughput=self._throughput, max_ahead_ms=self._max_ahead_ms
                                 ) if self._paced else 0.0
            if delay > 0:
                await asyncio.sleep(delay)  # the service's pacing rule, not a poll
                continue
            await engine.room_for_audio(self._max_queued_ms)
            if engine is not self._engine:
                continue  # replaced while waiting: start over with the new one
            if not engine.state.is_active:
                break  # it ended: the recorder attaches the next session
            chunk = held.read(self._sent, self._chunk_bytes)
            if not chunk:
                break
            engine.send_audio(chunk)
            self._sent += len(chunk)
            self._session_sent += len(chunk)
            if self.behind_ms < 1000:
                self._room.set()
        if self._engine is not None and self._sent >= held.end_byte:
            self._caught_up.set()
            self._room.set()
