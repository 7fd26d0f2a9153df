"""One recording, from Start to Stop: audio source → engine → transcript model → autosave.

Shared by the window's controller and the headless mode, so both behave the same way::

    STARTING   open the source first (audio is buffered by the engine while it connects),
               then start the engine (connect, wait for Begin)
    RECORDING  frames flow source → engine; turns flow engine → model → listener, autosave
    STOPPING   stop the source (its last partial frame is flushed into the engine), stop the
               engine (Terminate, wait for the final turn), settle any words still in progress
    IDLE

Whatever ends the recording — Stop, a failed engine, an unplugged microphone, cancellation at
quit — the transcript so far stays in the model and on disk, and the error (if any) is
reported once through the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from app.core.errors import AudioError, ExportError, LiveTranscriberError
from app.core.messages import Begin, Turn
from app.core.ports import EngineEvent, SessionFailed, TranscriptionEngine
from app.core.recording import (
    EngineFactory,
    RecorderState,
    RecordingListener,
    SourceFactory,
    Waitable,
)
from app.core.sources import AudioSource
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.recording.autosave import TranscriptAutosave

log = logging.getLogger(__name__)

AutosaveFactory = Callable[[datetime, Callable[[ExportError], None]], TranscriptAutosave]


class Recorder:
    """Runs one recording at a time into a transcript model it does not own."""

    def __init__(self, model: TranscriptModel, listener: RecordingListener,
                 autosave_factory: AutosaveFactory | None = None) -> None:
        self._model = model
        self._listener = listener
        self._autosave_factory = autosave_factory
        self._autosave: TranscriptAutosave | None = None
        self._ended = asyncio.Event()
        self._error: LiveTranscriberError | None = None
        self.state = RecorderState.IDLE

    @property
    def autosave_path(self) -> str | None:
        return str(self._autosave.path) if self._autosave is not None else None

    async def record(self, source_factory: SourceFactory, engine_factory: EngineFactory,
                     stop: Waitable) -> LiveTranscriberError | None:
        """Record until ``stop`` is set or something fails; returns the error, if any."""
        if self.state is not RecorderState.IDLE:
            raise RuntimeError("a recording is already running")
        self._ended = asyncio.Event()
        self._error = None
        if self._autosave_factory is not None:
            loop = asyncio.get_running_loop()

            def from_worker(error: ExportError) -> None:
                # The autosave reports from its worker thread; the listener lives on this loop.
                loop.call_soon_threadsafe(self._report, error)

            self._autosave = self._autosave_factory(datetime.now(), from_worker)
        self._set_state(RecorderState.STARTING)
        engine = engine_factory(self._on_engine_event)
        source = source_factory(engine.send_audio, self._listener.on_level, self._source_failed)
        source_started = False
        try:
            await source.start()
            source_started = True
            await engine.start()
            self._set_state(RecorderState.RECORDING)
            await _first_of(stop.wait(), self._ended.wait())
        except LiveTranscriberError as exc:
            self._report(exc)
        finally:
            self._set_state(RecorderState.STOPPING)
            # Shielded: a quit that cancels this task must still flush and close everything.
            await asyncio.shield(self._finish(source if source_started else None, engine))
            self._set_state(RecorderState.IDLE)
        return self._error

    async def _finish(self, source: AudioSource | None, engine: TranscriptionEngine) -> None:
        if source is not None:
            await source.stop()  # flushes the last partial frame into the engine
        await engine.stop()  # Terminate and wait for the final turn; a no-op after a failure
        settled = self._model.settle_partial()
        if settled is not None:
            self._emit(settled)
        if self._autosave is not None:
            await asyncio.to_thread(self._autosave.close)

    # --- sinks --------------------------------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        if isinstance(event, Turn):
            change = self._model.apply(event)
            if change is not None:
                self._emit(change)
        elif isinstance(event, Begin):
            settled = self._model.begin_session()
            if settled is not None:
                self._emit(settled)
            self._listener.on_session(event.id)
        elif isinstance(event, SessionFailed):
            self._report(event.error)
            self._ended.set()

    def _source_failed(self, error: AudioError) -> None:
        self._report(error)
        self._ended.set()

    def _emit(self, change: TranscriptChange) -> None:
        for step in change.steps():
            if self._autosave is not None:
                self._autosave.apply(step, self._model.finals)
            self._listener.on_transcript(step)

    def _report(self, error: LiveTranscriberError) -> None:
        if isinstance(error, ExportError):
            self._listener.on_error(error)  # autosave trouble does not end the recording
            return
        if self._error is None:
            self._error = error
            self._listener.on_error(error)
        else:
            log.info("further error after the first: %s", type(error).__name__)

    def _set_state(self, state: RecorderState) -> None:
        if state is not self.state:
            self.state = state
            self._listener.on_state(state)


async def _first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
