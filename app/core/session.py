"""The streaming session's life cycle as an explicit transition table.

::

    IDLE ──connect──▶ CONNECTING ──begin──▶ STREAMING ──stop──▶ STOPPING ──terminated──▶ CLOSED
                          │  └──stop──▶ STOPPING                     │
                          └──────fail──────────┴──────fail───────────┴──fail──▶ FAILED

A transition missing from the table is a bug in the caller and raises
:class:`IllegalTransitionError`; nothing is silently ignored. CLOSED and FAILED are final.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Final

from app.core.errors import IllegalTransitionError


class SessionState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STOPPING = "stopping"
    CLOSED = "closed"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (SessionState.CLOSED, SessionState.FAILED)

    @property
    def is_active(self) -> bool:
        """Audio may be handed to the session (it buffers until the service is ready)."""
        return self in (SessionState.CONNECTING, SessionState.STREAMING)


class SessionEvent(enum.Enum):
    CONNECT = "connect"  # the owner asked to start
    BEGIN = "begin"  # the service sent Begin
    STOP = "stop"  # the owner asked to stop (Terminate goes out)
    TERMINATED = "terminated"  # Termination received, or the socket closed cleanly
    FAIL = "fail"  # an error ended the session


S, E = SessionState, SessionEvent

TRANSITIONS: Final[dict[tuple[SessionState, SessionEvent], SessionState]] = {
    (S.IDLE, E.CONNECT): S.CONNECTING,
    (S.IDLE, E.FAIL): S.FAILED,
    (S.CONNECTING, E.BEGIN): S.STREAMING,
    (S.CONNECTING, E.STOP): S.STOPPING,
    (S.CONNECTING, E.FAIL): S.FAILED,
    (S.STREAMING, E.STOP): S.STOPPING,
    (S.STREAMING, E.TERMINATED): S.CLOSED,  # the service ended the session (e.g. expiry)
    (S.STREAMING, E.FAIL): S.FAILED,
    (S.STOPPING, E.BEGIN): S.STOPPING,  # Begin was in flight when stop was asked
    (S.STOPPING, E.TERMINATED): S.CLOSED,
    (S.STOPPING, E.FAIL): S.FAILED,
}


class SessionStateMachine:
    """Holds the current state; ``handle`` applies one event through :data:`TRANSITIONS`."""

    def __init__(
        self, on_change: Callable[[SessionState, SessionState], None] | None = None
    ) -> None:
        self._state = SessionState.IDLE
        self._on_change = on_change

    @property
    def state(self) -> SessionState:
        return self._state

    def can(self, event: SessionEvent) -> bool:
        return (self._state, event) in TRANSITIONS

    def handle(self, event: SessionEvent) -> SessionState:
        key = (self._state, event)
        if key not in TRANSITIONS:
            raise IllegalTransitionError(
                f"Session cannot '{event.value}' while {self._state.value}."
            )
        old, self._state = self._state, TRANSITIONS[key]
        if old is not self._state and self._on_change is not None:
            self._on_change(old, self._state)
        return self._state
