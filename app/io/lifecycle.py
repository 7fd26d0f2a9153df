"""The life cycle both engines share: the session state machine, the owner's event sink, the
one error a session can end with, the "closed" event ``stop``/``wait_closed`` wait on, and the
back-pressure a feeder waits on (:meth:`EngineLifecycle.room_for_audio`)."""

from __future__ import annotations

import asyncio

from app.core.errors import LiveTranscriberError
from app.core.ports import EventSink, SessionFailed, StateChanged
from app.core.session import SessionEvent, SessionState, SessionStateMachine


class EngineLifecycle:
    """Base of ``StreamingSession`` and ``OfflineEngine``.

    ``_wake`` is the event the engine's worker waits on; a failure sets it so the worker
    notices at once.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._machine = SessionStateMachine(self._state_changed)
        self._closed = asyncio.Event()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set whenever queued audio was taken for processing
        self._error: LiveTranscriberError | None = None

    @property
    def state(self) -> SessionState:
        return self._machine.state

    @property
    def error(self) -> LiveTranscriberError | None:
        return self._error

    async def wait_closed(self) -> None:
        """Return when the session has ended; raise its error if it failed."""
        await self._closed.wait()
        if self._error is not None:
            raise self._error

    def queued_ms(self) -> int:
        """Audio handed in and not yet sent or decoded (overridden by each engine)."""
        return 0

    async def room_for_audio(self, max_queued_ms: int) -> None:
        """Return once fewer than ``max_queued_ms`` of audio wait in this engine, or it ended.

        The recorder feeds a replay or a file through this, so no bounded queue inside an
        engine ever has to drop audio."""
        while self.queued_ms() >= max_queued_ms and not self._closed.is_set():
            self._room.clear()
            room = asyncio.ensure_future(self._room.wait())
            closed = asyncio.ensure_future(self._closed.wait())
            try:
                await asyncio.wait({room, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                room.cancel()
                closed.cancel()

    def _state_changed(self, old: SessionState, new: SessionState) -> None:
        self._sink(StateChanged(old, new))

    def _fail(self, error: LiveTranscriberError) -> None:
        """End the session with ``error``: reported once to the owner, kept for wait_closed."""
        if self.state.is_final:
            return
        self._error = error
        self._machine.handle(SessionEvent.FAIL)
        self._closed.set()
        self._wake.set()
        self._room.set()
        self._sink(SessionFailed(error))
