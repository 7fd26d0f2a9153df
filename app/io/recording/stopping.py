"""The end of a recording (the recorder's STOPPING phase): the engine hears the last audio and
is ended — Terminate, the final turn — and when its connection drops meanwhile, a new session
(the same engine, or Automatic's fallback) hears the held audio again from the last finished
turn and is ended in turn, all within the catch-up deadline; then the words in progress are
settled and the autosave closed.

:class:`StopPhase` is a base of :class:`app.io.recording.recorder.Recorder`, which owns the
state declared here; it is its own module so the recorder stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import TYPE_CHECKING

from app.core import policy
from app.core.errors import LiveTranscriberError
from app.core.ports import EngineEvent, TranscriptionEngine
from app.core.reconnect import Decision, ReconnectPlanner
from app.core.recording import EngineFactory, NoticeKind
from app.core.session import SessionState
from app.core.sources import AudioSource
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.feeder import AudioFeeder

if TYPE_CHECKING:
    from app.io.recording.recorder import RecorderOptions

log = logging.getLogger(__name__)


class StopPhase:
    """Ending a recording's engine sessions without losing the last words."""

    # Provided by the recorder.
    _options: RecorderOptions
    _model: TranscriptModel
    _feeder: AudioFeeder
    _autosave: TranscriptAutosave | None
    _engine: TranscriptionEngine | None
    _factory: EngineFactory | None
    _fallback: EngineFactory | None
    _session_end: asyncio.Future[LiveTranscriberError] | None
    _error: LiveTranscriberError | None
    _stopping: bool
    reconnects: int

    def _on_engine_event(self, generation: asyncio.Future[LiveTranscriberError],
                         event: EngineEvent) -> None:
        raise NotImplementedError

    def _begin_segment(self, offset_ms: int) -> None:
        raise NotImplementedError

    def _emit(self, change: TranscriptChange) -> None:
        raise NotImplementedError

    def _notice(self, kind: NoticeKind, text: str) -> None:
        raise NotImplementedError

    def _report(self, error: LiveTranscriberError) -> None:
        raise NotImplementedError

    async def _finish(self, source: AudioSource | None, feeder_task: asyncio.Task[None]) -> None:
        self._stopping = True
        if source is not None:
            await source.stop()  # the last partial frame goes into the held audio
        deadline = time.monotonic() + self._options.catch_up_timeout_s
        engine = self._engine
        if engine is not None:
            engine = await self._end_sessions(engine, deadline)
        behind_ms = self._feeder.behind_ms
        feeder_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder_task
        if engine is not None and engine.state is SessionState.FAILED and engine.error is not None:
            self._report(_with_unfinished(engine.error, self._feeder.unfinished_ms))
        settled = self._model.settle_partial()
        if settled is not None:
            self._emit(settled)
        lost_ms = self._feeder.lost_ms
        if lost_ms >= 50 and self._error is None:
            self._report(LiveTranscriberError(
                policy.audio_lost_text(lost_ms + behind_ms, self._options.max_held_ms),
                remedy="The words before and after it are kept."))
        elif behind_ms >= 50 and self._error is None:
            self._report(LiveTranscriberError(
                f"The last {behind_ms / 1000:.1f} s of audio were not transcribed: the speech "
                "engine was not ready when the recording ended.",
                remedy="The words before that are kept."))
        if self._autosave is not None:
            await asyncio.to_thread(self._autosave.close)

    async def _end_sessions(self, engine: TranscriptionEngine, deadline: float
                            ) -> TranscriptionEngine:
        """Let ``engine`` hear the last audio and end it (Terminate, the final turn). When its
        connection drops meanwhile, a new session hears the held audio again from the last
        finished turn and is ended in turn, within ``deadline``: a network blip at Stop loses
        no word either. Returns the engine that ended last."""
        planner = ReconnectPlanner(self._options.reconnect)
        while True:
            if engine.state is SessionState.STREAMING:
                try:
                    async with asyncio.timeout_at(_loop_time(deadline)):
                        await self._feeder.wait_caught_up()
                except TimeoutError:
                    log.warning("the engine did not take the last audio in time")
            await engine.stop()  # Terminate and wait for the final turn
            error = engine.error if engine.state is SessionState.FAILED else None
            if error is None or self._feeder.held_ms == 0 or self._factory is None:
                return engine
            plan = planner.next(error, time.monotonic())
            wait_s = plan.delay_s if plan.decision is Decision.RETRY else 0.0
            if (plan.decision is Decision.GIVE_UP
                    or time.monotonic() + wait_s >= deadline):
                return engine
            self._feeder.detach()
            self._notice(NoticeKind.RECONNECTING,
                         f"{error.message} Reconnecting to finish the last "
                         f"{self._feeder.held_ms / 1000:.1f} s of audio…")
            await asyncio.sleep(wait_s)  # backoff between attempts
            replacement = await self._reopen(deadline)
            if replacement is None:
                return engine
            self.reconnects += 1
            self._notice(NoticeKind.RECONNECTED,
                         f"Reconnected after {planner.outage_s(time.monotonic()):.1f} s; "
                         "finishing the last words.")
            planner.end()
            engine = replacement

    async def _reopen(self, deadline: float) -> TranscriptionEngine | None:
        """A new session of the current engine (or, in Automatic, of the fallback) that hears
        the held audio from its start; None when none could be opened before ``deadline``."""
        for factory in (self._factory, self._fallback):
            if factory is None:
                continue
            generation: asyncio.Future[LiveTranscriberError] = (
                asyncio.get_running_loop().create_future())
            self._session_end = generation
            try:
                engine = factory(functools.partial(self._on_engine_event, generation))
            except LiveTranscriberError as exc:
                log.info("no session to finish the last words: %s", type(exc).__name__)
                continue
            try:
                async with asyncio.timeout_at(_loop_time(deadline)):
                    await engine.start()
            except (LiveTranscriberError, TimeoutError) as exc:
                log.info("no session to finish the last words: %s", type(exc).__name__)
                await engine.stop()
                continue
            self._engine = engine
            self._begin_segment(self._feeder.attach(engine))
            return engine
        return None


def _loop_time(monotonic_deadline: float) -> float:
    """``monotonic_deadline`` on the running loop's clock (for ``asyncio.timeout_at``)."""
    return asyncio.get_running_loop().time() + (monotonic_deadline - time.monotonic())


def _with_unfinished(error: LiveTranscriberError, unfinished_ms: int) -> LiveTranscriberError:
    """The last session's error, saying how much audio at the end no engine finished."""
    if unfinished_ms < 50:
        return error
    return LiveTranscriberError(
        f"The last {unfinished_ms / 1000:.1f} s of audio were not transcribed. {error.message}",
        remedy=error.remedy,
        retryable=error.retryable, code=error.code, detail=error.detail)
