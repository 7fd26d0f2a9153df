"""One recording, from Start to Stop: audio source → engine sessions → transcript → autosave.

Shared by the window's controller and the headless mode, so both behave the same way::

    STARTING   open the source (its audio is held from the first frame), open an engine
               session (connect, wait for Begin); Stop cancels a pending connect at once
    RECORDING  frames flow source → held audio → engine (app/io/recording/feeder.py);
               turns flow engine → model → listener, autosave. When the session ends on its
               own (network drop, service restart, expiry, a clean close nobody asked for),
               the recording goes on: a new session — or, in Automatic mode after
               ``fall_back_after_s``, the offline engine — hears the held audio again from
               the last finished turn, so no word is lost or written twice
               (app/core/reconnect.py decides; app/core/held_audio.py holds the audio)
    STOPPING   stop the source (its last frame goes to the engine), let the engine catch
               up, stop it (Terminate, wait for the final turn), settle words in progress
    IDLE

Whatever ends the recording, the transcript so far stays in the model and on disk, and the
error (if any) is reported once through the listener. Every task started here is awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core import policy
from app.core.config import EngineChoice
from app.core.errors import AudioError, ExportError, LiveTranscriberError
from app.core.held_audio import HeldAudio
from app.core.messages import Begin, Turn
from app.core.ports import (
    EngineEvent,
    PaceChanged,
    SessionFailed,
    StateChanged,
    TranscriptionEngine,
)
from app.core.reconnect import (
    Decision,
    ReconnectPlan,
    ReconnectPlanner,
    ReconnectSettings,
    unexpected_end,
)
from app.core.recording import (
    EngineFactory,
    NoticeKind,
    RecorderState,
    RecordingListener,
    RecordingNotice,
    SourceFactory,
    Waitable,
)
from app.core.session import SessionState
from app.core.sources import AudioSource
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.lazy_sleep import lazy_sleep
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.feeder import AudioFeeder
from app.io.recording.stopping import StopPhase
from app.io.waiting import first_of

log = logging.getLogger(__name__)

_UPLINK_WINDOW = 4  # polls: the link's pace is judged over the last three intervals

AutosaveFactory = Callable[[datetime, Callable[[ExportError], None]], TranscriptAutosave]


def open_autosave(factory: AutosaveFactory | None,
                  report: Callable[[ExportError], None]) -> TranscriptAutosave | None:
    """A new recording's autosave (None without a factory). It reports trouble from its worker
    thread; ``report`` is called on the running loop, where the recording's listener lives."""
    if factory is None:
        return None
    loop = asyncio.get_running_loop()

    def from_worker(error: ExportError) -> None:
        loop.call_soon_threadsafe(report, error)

    return factory(datetime.now(), from_worker)


@dataclass(frozen=True)
class RecorderOptions:
    reconnect: ReconnectSettings = ReconnectSettings()
    max_held_ms: int = 300_000  # audio kept for a replay (~9.6 MB); beyond it the oldest goes
    catch_up_timeout_s: float = 30.0  # at Stop: the engine hears the last held audio
    # The service's pacing rule for held audio (PROTOCOL.md §6: ~1.25x real time, 3007 past
    # five minutes ahead); a soak test against a faster emulator raises it.
    throughput: float = 1.25
    max_ahead_ms: int = 60_000
    uplink_poll_s: float = 1.0  # how often a live cloud recording checks its audio is moving


class _SessionEnded(Exception):
    def __init__(self, error: LiveTranscriberError) -> None:
        super().__init__(error.message)
        self.error = error


def engine_of(begin: Begin) -> str:
    """The engine a session's Begin came from: "offline" from the offline engine (its
    configuration says so), else "cloud" (AssemblyAI's Begin names no engine)."""
    engine = begin.configuration.get("engine")
    return engine if isinstance(engine, str) else EngineChoice.CLOUD.value


class Recorder(StopPhase):
    """Runs one recording at a time into a transcript model it does not own."""

    def __init__(self, model: TranscriptModel, listener: RecordingListener,
                 autosave_factory: AutosaveFactory | None = None,
                 options: RecorderOptions | None = None) -> None:
        self._model = model
        self._listener = listener
        self._autosave_factory = autosave_factory
        self._options = options or RecorderOptions()
        self._autosave: TranscriptAutosave | None = None
        self.engine_name: str | None = None  # of the session that began last
        self._feeder = self._new_feeder()
        self._engine: TranscriptionEngine | None = None
        self._session_end: asyncio.Future[LiveTranscriberError] | None = None
        self._source_error: asyncio.Event = asyncio.Event()
        self._stopping = False
        self._streamed = False
        self._source: AudioSource | None = None
        # The engines of the recording in progress, for a session opened while stopping.
        self._factory: EngineFactory | None = None
        self._fallback: EngineFactory | None = None
        self._error: LiveTranscriberError | None = None
        self.state = RecorderState.IDLE
        self.reconnects = 0
        self._taking_over = False  # the next session is the fallback engine's first
        self._lost_told_at: float | None = None

    @property
    def autosave_path(self) -> str | None:
        return str(self._autosave.path) if self._autosave is not None else None

    @property
    def dropped_frames(self) -> int:
        """Frames the source threw away because the app fell behind (shown, never hidden)."""
        return 0 if self._source is None else self._source.dropped_frames

    @property
    def lost_ms(self) -> int:
        """Audio of this recording that no engine heard (0 unless something was reported)."""
        return self._feeder.lost_ms

    async def room_for_audio(self) -> None:
        await self._feeder.room_for_audio()

    async def record(self, source_factory: SourceFactory, engine_factory: EngineFactory,
                     stop: Waitable, fallback: EngineFactory | None = None,
                     ) -> LiveTranscriberError | None:
        """Record until ``stop`` is set or something fails for good; returns the error."""
        if self.state is not RecorderState.IDLE:
            raise RuntimeError("a recording is already running")
        self._reset()
        self._open_autosave()  # before STARTING: the window shows its path from then on
        self._set_state(RecorderState.STARTING)
        feeder_task = asyncio.create_task(self._feeder.run(), name="audio-feeder")
        source: AudioSource | None = None
        try:
            source = source_factory(self._feeder.push, self._listener.on_level,
                                    self._source_failed)
            self._source = source
            await _until(source.start(), stop)
            if not stop.is_set():
                await self._run_sessions(engine_factory, fallback, stop, source)
        except LiveTranscriberError as exc:
            self._report(exc)
        except Exception as exc:  # a bug: end the recording loudly, keep the transcript
            log.exception("the recording failed")
            self._report(LiveTranscriberError(
                "The recording stopped because of an internal error.",
                remedy="Start again; if it keeps happening, report it with the app's log.",
                detail=type(exc).__name__))
        finally:
            self._set_state(RecorderState.STOPPING)
            # Shielded: a quit that cancels this task must still flush and close everything.
            await asyncio.shield(self._finish(source, feeder_task))
            self._set_state(RecorderState.IDLE)
        return self._error

    # --- engine sessions -------------------------------------------------------------------

    async def _run_sessions(self, factory: EngineFactory, fallback: EngineFactory | None,
                            stop: Waitable, source: AudioSource) -> None:
        planner = ReconnectPlanner(self._options.reconnect, can_fall_back=fallback is not None)
        self._factory, self._fallback = factory, fallback
        while not stop.is_set() and not self._source_error.is_set():
            try:
                await self._stream_one(factory, stop, planner, source)
                return  # stopped by the person, or a file was transcribed to its end
            except _SessionEnded as ended:
                error = ended.error
            plan = planner.next(error, time.monotonic())
            if not self._streamed and plan.decision is Decision.RETRY:
                # The first connection of a recording failed: say so at once (Cloud) or go
                # offline at once (Automatic) rather than keep the person waiting.
                plan = ReconnectPlan(Decision.FALL_BACK if fallback else Decision.GIVE_UP)
            if plan.decision is Decision.GIVE_UP:
                raise error
            if plan.decision is Decision.FALL_BACK:
                assert fallback is not None
                factory, fallback = fallback, None
                self._factory, self._fallback = factory, fallback
                planner = ReconnectPlanner(self._options.reconnect)
                planner.begin(time.monotonic())
                self._notice(NoticeKind.FALLBACK, policy.fallback_text(error))
                self._taking_over = True
                continue
            self._notice(NoticeKind.RECONNECTING,
                         f"{error.message} Reconnecting in {plan.delay_s:.0f} s… "
                         f"({self._feeder.behind_ms / 1000:.1f} s of audio waiting)")
            await _until(asyncio.sleep(plan.delay_s), stop)  # backoff between attempts

    async def _stream_one(self, factory: EngineFactory, stop: Waitable,
                          planner: ReconnectPlanner, source: AudioSource) -> None:
        """Open one engine session and stream until Stop (returns) or until the session ends
        (raises :class:`_SessionEnded`)."""
        loop = asyncio.get_running_loop()
        self._session_end = loop.create_future()
        generation = self._session_end
        try:
            engine = factory(lambda event: self._on_engine_event(generation, event))
        except LiveTranscriberError as exc:
            raise _SessionEnded(exc) from None
        self._engine = engine
        try:
            await _until(engine.start(), stop)
        except LiveTranscriberError as exc:
            await self._drop_engine(engine)
            raise _SessionEnded(exc) from None
        if stop.is_set():
            return
        offset_ms = self._feeder.attach(engine)
        # The fallback engine's first session is no reconnection (the cloud is not back): the
        # FALLBACK notice has said what happens, and it stays on the message bar with its reason.
        if planner.in_outage and not self._taking_over:
            self.reconnects += 1
            outage = planner.outage_s(time.monotonic())
            self._notice(NoticeKind.RECONNECTED,
                         f"Reconnected after {outage:.1f} s; catching up "
                         f"{self._feeder.behind_ms / 1000:.1f} s of audio.")
        self._taking_over = False
        planner.end()
        self._set_state(RecorderState.RECORDING)
        self._begin_segment(offset_ms)
        self._streamed = True
        await first_of(stop.wait(), self._source_error.wait(), asyncio.shield(generation),
                        self._all_heard(source), self._watch_uplink(engine, source))
        if generation.done() and not generation.cancelled() and not stop.is_set():
            self._feeder.detach()
            await self._drop_engine(engine)
            raise _SessionEnded(generation.result())

    async def _watch_uplink(self, engine: TranscriptionEngine, source: AudioSource) -> None:
        """While this session lasts (never returns): tell the person when a live recording's
        audio piles up on its way to a cloud session (a slow uplink: words come late, none is
        lost while the held audio lasts), and when it has caught up. In Automatic mode, once
        as much audio waits as an outage is given before the fallback, the session is
        abandoned (:class:`SlowLinkError`) and the offline engine hears the held audio. A file
        that is not played in real time runs ahead of any link on purpose; the offline engine
        says when it falls behind by itself."""
        queued_ms = getattr(engine, "queued_ms", None)  # the cloud session's own queue
        abandon = getattr(engine, "abandon", None)
        live = not source.ends_by_itself or getattr(source, "realtime", False)
        if queued_ms is None or abandon is None or not live:
            await asyncio.get_running_loop().create_future()  # cancelled with the session
            return
        behind = False
        window: deque[tuple[float, int]] = deque(maxlen=_UPLINK_WINDOW)
        loop = asyncio.get_running_loop()
        while True:
            await lazy_sleep(self._options.uplink_poll_s)  # at a hand-off: no wake-up of its own
            window.append((loop.time(), self._feeder.session_sent_ms))
            if len(window) < _UPLINK_WINDOW:
                continue  # not yet a whole window to tell the link's pace from
            (began, first), (now, last) = window[0], window[-1]
            waiting, carried, over = (self._feeder.behind_ms + queued_ms(), last - first,
                                      round((now - began) * 1000))
            limit_ms = round(self._options.reconnect.fall_back_after_s * 1000)
            too_slow = policy.uplink_too_slow(waiting, carried, over, limit_ms)
            if too_slow is not None and self._fallback is not None:
                log.info("abandoning a session on a slow link: %d ms waiting", waiting)
                abandon(too_slow)  # its SessionFailed ends this session's wait
                continue
            notice = policy.uplink_notice(waiting, carried, over, behind)
            if notice is not None:
                behind = notice.kind is NoticeKind.BEHIND
                self._notice(notice.kind, notice.text)

    async def _all_heard(self, source: AudioSource) -> None:
        """A file has been played to its end and the engine has had all of it."""
        await source.wait_ended()
        await self._feeder.wait_caught_up()

    def _begin_segment(self, offset_ms: int) -> None:
        change = self._model.begin_session(offset_ms, replay=True)
        if change is not None:
            self._emit(change)

    async def _drop_engine(self, engine: TranscriptionEngine) -> None:
        if self._engine is engine:
            self._engine = None
        await engine.stop()  # never raises; releases the socket or the decoder

    # --- sinks -----------------------------------------------------------------------------

    def _on_engine_event(self, generation: asyncio.Future[LiveTranscriberError],
                         event: EngineEvent) -> None:
        if generation is not self._session_end or generation.done():
            return  # a session that was replaced: its late messages must not apply
        if isinstance(event, Turn):
            change = self._model.apply(event)
            if change is not None:
                self._emit(change)
            if event.end_of_turn and event.words:
                self._feeder.acknowledge(max(w.end for w in event.words))
        elif isinstance(event, Begin):
            self.engine_name = engine_of(event)
            if self._autosave is not None:
                self._autosave.note_engine(self.engine_name)
            self._listener.on_session(event.id)
        elif isinstance(event, SessionFailed):
            generation.set_result(event.error)
        elif isinstance(event, PaceChanged):
            notice = policy.pace_notice(event.behind_ms, event.gave_up)
            self._notice(notice.kind, notice.text)
        elif (isinstance(event, StateChanged) and event.new is SessionState.CLOSED
              and not self._stopping):
            generation.set_result(unexpected_end())

    def _source_failed(self, error: AudioError) -> None:
        self._report(error)
        self._source_error.set()

    def _emit(self, change: TranscriptChange) -> None:
        for step in change.steps():
            if self._autosave is not None:
                self._autosave.apply(step, self._model.finals)
            self._listener.on_transcript(step)

    def _notice(self, kind: NoticeKind, text: str) -> None:
        log.info("%s: %s", kind.value, text)
        self._listener.on_notice(RecordingNotice(kind, text))

    def _report(self, error: LiveTranscriberError) -> None:
        if isinstance(error, ExportError):
            self._listener.on_error(error)  # autosave trouble does not end the recording
            return
        if self._error is None:
            self._error = error
            self._listener.on_error(error)
        else:
            log.info("further error after the first: %s", type(error).__name__)

    # --- helpers ---------------------------------------------------------------------------

    def _reset(self) -> None:
        self._error = None
        self._factory = self._fallback = None
        self._stopping = False
        self._streamed = False
        self._source = None
        self._engine = None
        self._session_end = None
        self._source_error = asyncio.Event()
        self._feeder = self._new_feeder()
        self._lost_told_at = None
        self.reconnects = 0
        self._taking_over = False

    def _new_feeder(self) -> AudioFeeder:
        o = self._options
        return AudioFeeder(HeldAudio(o.max_held_ms), throughput=o.throughput,
                           max_ahead_ms=o.max_ahead_ms, on_lost=self._audio_lost)

    def _audio_lost(self, lost_ms: int) -> None:
        """Said when it happens (at most every few seconds), never only at Stop."""
        now = time.monotonic()
        if self._lost_told_at is not None and now - self._lost_told_at < 5.0:
            return
        self._lost_told_at = now
        self._notice(NoticeKind.AUDIO_LOST, policy.audio_lost_text(
            self._feeder.lost_ms, self._options.max_held_ms))

    def _open_autosave(self) -> None:
        self._autosave = open_autosave(self._autosave_factory, self._report)

    def _set_state(self, state: RecorderState) -> None:
        if state is not self.state:
            self.state = state
            self._listener.on_state(state)


async def _until(work: Coroutine[Any, Any, Any], stop: Waitable) -> None:
    """Run ``work`` unless ``stop`` comes first, in which case it is cancelled."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
        with contextlib.suppress(asyncio.CancelledError):
            await task  # re-raises the work's own error, if it failed
