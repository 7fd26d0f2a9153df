"""The offline engine: live transcription on this computer, no key and no network.

Implements :class:`app.core.ports.TranscriptionEngine` with Whisper (``tiny.en`` by default)
and emits the same events as the cloud session, so the recorder, the transcript model and the
window cannot tell them apart::

    start()  CONNECTING while the model is verified and loaded (worker thread; instant once
             the process has loaded it), then a synthetic Begin ("offline-<uuid>") and
             STREAMING. Audio handed in meanwhile is kept.
    send_audio(pcm)  appends to a bounded backlog and returns; never blocks. Every
             ``poll_ms`` of new audio wakes the runner task, which hands the whole backlog to
             the decoder thread (OfflineTranscriber: VAD, re-decode, LocalAgreement-2).
             While a decode runs, audio keeps queuing; the next call takes all of it, so a
             slow decode lengthens the step instead of blocking capture. After each step
             the audio still queued is the lag (``lag_ms``); when it passes 2 s the engine
             sheds partial decodes (longer steps, then finals only: ``app.core.pace``),
             runs the voice-activity check less often, and sends ``PaceChanged`` with a
             sentence for the person. Audio is never dropped
             for it, and every turn still gets its final.
    stop()   the decoder finishes the rest (last decode, final Turn), then Termination and
             CLOSED. Never raises; waits while decodes keep finishing, gives up after
             ``stop_timeout`` without one (a hung decoder).

Threads: one dedicated decoder thread per engine; its results come back through the awaited
executor future, so every event reaches the sink on the event loop's thread.

Errors: a model that is missing, damaged or fails to load, and a decoder that fails while
running, become :class:`app.core.errors.OfflineModelError`, reported once through the
sink as ``SessionFailed`` and raised by ``start`` / ``wait_closed``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeVar

from app.core.agreement import TurnRules
from app.core.errors import LiveTranscriberError, OfflineModelError
from app.core.messages import Begin, Termination, Turn
from app.core.pace import PACES, PaceGovernor
from app.core.ports import EventSink, PaceChanged
from app.core.session import SessionEvent, SessionState
from app.io.lifecycle import EngineLifecycle
from app.io.offline.model import DecodeOptions, WhisperRecogniser
from app.io.offline.transcriber import OfflineTranscriber, TranscriberStats

log = logging.getLogger(__name__)

BYTES_PER_MS: Final = 32  # 16 kHz mono s16le
# Offline sessions never expire; Begin still carries a time, as the cloud's does.
_SESSION_SECONDS: Final = 24 * 3600
_T = TypeVar("_T")


class ModelSource(Protocol):
    """Where the engine gets its model (``WhisperModelLoader``: verified, loaded once)."""

    async def load(self) -> WhisperRecogniser: ...


@dataclass(frozen=True)
class OfflineOptions:
    rules: TurnRules = field(default_factory=TurnRules)
    poll_ms: int = 250  # new audio that wakes the decoder for a voice-activity check
    # Audio waiting for the decoder; beyond it the oldest goes. Only a decoder that hangs gets
    # near it: one that is merely slow sheds partial decodes (PaceGovernor) and keeps up.
    max_backlog_ms: int = 300_000
    adapt_pace: bool = True  # shed partial decodes when recognition falls behind the audio
    # A file (nobody watches words in progress): finals only from the start, no partials.
    finals_only: bool = False
    # At stop: how long the last decodes may go without finishing one before the decoder is
    # taken for hung (a busy computer that keeps finishing decodes is waited for).
    stop_timeout: float = 30.0
    # The spoken language (None: detect per turn) and task; None: the model's defaults.
    decode: DecodeOptions | None = None


class OfflineEngine(EngineLifecycle):
    """One recording's offline transcription session."""

    # No service's pacing rule (AssemblyAI's ~1.25x real time, PROTOCOL.md §6): the feeder
    # hands a file over as fast as this engine takes it.
    follows_service_pace = False

    def __init__(self, source: ModelSource, sink: EventSink, *,
                 options: OfflineOptions | None = None) -> None:
        super().__init__(sink)
        self._source = source
        self._options = options or OfflineOptions()
        self._backlog: collections.deque[bytes] = collections.deque()
        self._backlog_bytes = 0
        self._idle = asyncio.Event()
        self._loading: asyncio.Future[WhisperRecogniser] | None = None
        self._transcriber: OfflineTranscriber | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._runner: asyncio.Task[None] | None = None
        self._started_at = time.monotonic()
        self.session_id: str | None = None
        self.dropped_ms = 0
        self._governor = PaceGovernor()
        # Behind, the detector runs less often too (it re-reads the turn's audio each time).
        self._poll_bytes = self._options.poll_ms * BYTES_PER_MS
        # Recognition lag after each decoder step (the audio handed in that the recogniser has
        # not looked at yet), newest last: for benchmarks and diagnostics.
        self.lag_ms: collections.deque[int] = collections.deque(maxlen=20_000)
        # Where in the stream each of those was measured: the audio handed to the recogniser
        # so far (ms), so a reader can see the lag was measured all through the recording.
        self.lag_at_ms: collections.deque[int] = collections.deque(maxlen=20_000)

    # --- public API ----------------------------------------------------------------------

    @property
    def stats(self) -> TranscriberStats | None:
        """Decoder counters (decodes, time spent); None before the model is loaded."""
        return None if self._transcriber is None else self._transcriber.stats

    async def start(self) -> None:
        self._machine.handle(SessionEvent.CONNECT)
        self._started_at = time.monotonic()
        self._loading = asyncio.ensure_future(self._source.load())
        try:
            # Shielded: a cancelled start leaves the load to finish for stop() to use.
            recogniser = await asyncio.shield(self._loading)
        except LiveTranscriberError as exc:
            self._fail(exc)
            raise
        self._open(recogniser)

    def send_audio(self, pcm: bytes) -> None:
        """Queue 16 kHz mono s16le audio of any length for the decoder. Never blocks."""
        if not self.state.is_active or not pcm:
            return
        self._backlog.append(pcm)
        self._backlog_bytes += len(pcm)
        limit = self._options.max_backlog_ms * BYTES_PER_MS
        while self._backlog_bytes > limit and len(self._backlog) > 1:
            dropped = self._backlog.popleft()
            self._backlog_bytes -= len(dropped)
            self.dropped_ms += len(dropped) // BYTES_PER_MS
        if self._backlog_bytes >= self._poll_bytes:
            self._idle.clear()
            self._wake.set()

    async def stop(self) -> None:
        if self.state is SessionState.IDLE:
            self._machine.handle(SessionEvent.FAIL)  # as the cloud session: never started
            self._closed.set()
            return
        if self.state.is_final:
            return
        if self.state is SessionState.STOPPING:
            await self._closed.wait()
            return
        self._machine.handle(SessionEvent.STOP)
        self._wake.set()
        try:
            async with asyncio.timeout(self._options.stop_timeout):
                if self._runner is None and self._loading is not None:
                    self._open(await asyncio.shield(self._loading))  # start() was cancelled
            await self._closed_while_decoding()
        except LiveTranscriberError as exc:
            self._fail(exc)
        except TimeoutError:
            self._fail(OfflineModelError(
                "The offline engine did not finish the last words in time; they may be "
                "missing.", remedy="Start recording again.", retryable=True))
        await self._shutdown()

    async def _closed_while_decoding(self) -> None:
        """Wait for the last decodes. A slow or busy computer only makes them late (the words
        still come); the wait ends in TimeoutError only when no decode at all finished for
        ``stop_timeout``, i.e. the decoder hangs."""
        while True:
            done = self._decodes_done()
            try:
                async with asyncio.timeout(self._options.stop_timeout):
                    await self._closed.wait()
                return
            except TimeoutError:
                if self._decodes_done() == done:
                    raise

    def _decodes_done(self) -> int:
        stats = self.stats
        return 0 if stats is None else stats.decodes + stats.final_decodes

    async def drain(self) -> None:
        """Return once the decoder has processed every byte handed in so far.

        For tests and benchmarks that feed audio faster than real time: the app itself never
        needs it (``stop`` flushes).
        """
        while not self._closed.is_set():
            if self._backlog_bytes:
                self._idle.clear()
                self._wake.set()
            elif self._idle.is_set():
                return
            waiting = asyncio.ensure_future(self._idle.wait())
            closing = asyncio.ensure_future(self._closed.wait())
            try:
                await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                closing.cancel()

    # --- running -------------------------------------------------------------------------

    def _open(self, recogniser: WhisperRecogniser) -> None:
        if self._runner is not None or self.state.is_final:
            return
        self._transcriber = OfflineTranscriber(recogniser, self._options.rules,
                                               self._options.decode)
        if self._options.finals_only:
            self._transcriber.pace = PACES[-1]
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="offline-decoder")
        self.session_id = f"offline-{uuid.uuid4()}"
        self._machine.handle(SessionEvent.BEGIN)
        self._sink(Begin(id=self.session_id, expires_at=int(time.time()) + _SESSION_SECONDS,
                         configuration={"engine": "offline", "model": recogniser.spec.name}))
        self._runner = asyncio.create_task(self._run(self._transcriber), name="offline-decoder")

    async def _run(self, transcriber: OfflineTranscriber) -> None:
        try:
            while True:
                if not self._wake.is_set():
                    self._idle.set()
                await self._wake.wait()
                self._wake.clear()
                stopping = self.state is not SessionState.STREAMING
                pcm = self._take_backlog()
                if not pcm and not stopping:
                    continue
                try:
                    turns = await self._in_worker(
                        transcriber.finish if stopping else transcriber.push, pcm)
                except Exception as exc:  # the decoder failed: report it, never die silently
                    log.exception("offline decoding failed")
                    self._fail(OfflineModelError(
                        "Offline transcription stopped because the speech model failed.",
                        remedy="Start recording again; if it keeps happening, report it with "
                        "the app's log.", retryable=True, detail=f"{type(exc).__name__}: {exc}"))
                    return
                if self.state.is_final:
                    return  # failed meanwhile (stop timed out): nothing more goes out
                self._emit(turns)
                if not stopping:
                    self._keep_pace(transcriber)
                if stopping:
                    break
            self._sink(Termination(
                audio_duration_seconds=round(transcriber.received_ms / 1000),
                session_duration_seconds=round(time.monotonic() - self._started_at)))
            self._machine.handle(SessionEvent.TERMINATED)
        finally:
            # Whatever ended the loop (even a bug in the owner's sink), stop() and
            # wait_closed() must not wait forever.
            self._idle.set()
            self._closed.set()

    async def _in_worker(self, call: Callable[[bytes], _T], pcm: bytes) -> _T:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, pcm)

    def _take_backlog(self) -> bytes:
        pcm = b"".join(self._backlog)
        self._backlog.clear()
        self._backlog_bytes = 0
        self._room.set()
        return pcm

    def queued_ms(self) -> int:
        return self._backlog_bytes // BYTES_PER_MS

    def _keep_pace(self, transcriber: OfflineTranscriber) -> None:
        """Measure the lag this step left behind; decode less (never drop audio) when the
        machine cannot keep up, and tell the owner what that costs."""
        behind_ms = self._backlog_bytes // BYTES_PER_MS
        self.lag_ms.append(behind_ms)
        self.lag_at_ms.append(transcriber.received_ms)
        adapt = self._options.adapt_pace and not self._options.finals_only
        change = self._governor.observe(behind_ms, transcriber.received_ms) if adapt else None
        if change is not None:
            transcriber.pace = change.pace
            self._poll_bytes = self._options.poll_ms * change.pace.step_factor * BYTES_PER_MS
            log.info("offline engine %d ms behind: pace %s", behind_ms, change.pace)
            self._sink(PaceChanged(behind_ms=change.behind_ms, gave_up=change.pace.gave_up))

    def _emit(self, turns: list[Turn]) -> None:
        for turn in turns:
            self._sink(turn)

    # --- ending --------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        runner = self._runner
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        elif runner is not None and not runner.cancelled() and runner.exception() is not None:
            log.error("the offline engine's runner failed", exc_info=runner.exception())
        if self._executor is not None:
            # A decode still running (after a timeout) finishes in its thread; nothing waits.
            self._executor.shutdown(wait=False, cancel_futures=True)
