"""What the emulator saw and sent, for assertions in tests.

Lists are only appended to from the server's event loop; other threads may read them at any
time, and a session's fields are final once `closed` is true (see `TrafficLog.wait_closed`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .config import SessionParams

AuthMethod = Literal["header-key", "header-token", "query-token"]


@dataclass
class RecordedRequest:
    """Every plain HTTP request and every WebSocket upgrade."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    raw_target: str  # the request target exactly as sent, query included
    is_websocket: bool = False
    body: bytes = b""
    # Set when `Emulator.service_down()` refused it: "http-503" or "reset".
    refused: str | None = None
    received_at: float = field(default_factory=time.time)


@dataclass
class RecordedSession:
    """One WebSocket session (v3 or v2), including refused ones."""

    request: RecordedRequest
    path: str
    params: SessionParams | None = None  # as connected; None when the query was refused
    current_params: SessionParams | None = None  # after UpdateConfiguration messages
    auth_method: AuthMethod | None = None
    session_id: str | None = None
    # Order among accepted v3 sessions (credentials and query valid), 0-based; None if refused.
    index: int | None = None
    faulted: bool = False  # the fault knobs applied to this session (`fault_sessions`)
    stalled: bool = False  # the stall fault froze it
    audio_bytes_received: int = 0
    frames_received: int = 0  # binary (audio) frames
    text_messages_received: list[str] = field(default_factory=list)
    messages_sent: list[dict[str, Any]] = field(default_factory=list)  # parsed JSON frames
    raw_frames_sent: list[str] = field(default_factory=list)  # every text frame, verbatim
    # The code/reason of the server's close frame when the server closed; the client's when
    # the client closed first; 1006 when the TCP connection ended without a close frame.
    close_code: int | None = None
    close_reason: str | None = None
    began: bool = False
    closed: bool = False


class TrafficLog:
    """Every request and session the emulator saw, for tests to read and wait on."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.sessions: list[RecordedSession] = []
        self._cond = threading.Condition()

    def add_request(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)

    def add_session(self, session: RecordedSession) -> None:
        with self._cond:
            self.sessions.append(session)
            self._cond.notify_all()

    def accept(self, session: RecordedSession) -> int:
        """Number an accepted v3 session (0-based) and return its number."""
        with self._cond:
            session.index = sum(s.index is not None for s in self.sessions)
            self._cond.notify_all()
            return session.index

    @property
    def accepted(self) -> list[RecordedSession]:
        with self._cond:
            return sorted((s for s in self.sessions if s.index is not None),
                          key=lambda s: s.index or 0)

    def changed(self) -> None:
        """Wake `wait_until` waiters (audio arrived, a session began...)."""
        with self._cond:
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` holds (re-checked on every recorded change).

        Raises TimeoutError.  Never call this on the emulator's own event loop thread.
        """
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"emulator condition not met in {timeout} s")

    def mark_closed(self, session: RecordedSession) -> None:
        with self._cond:
            session.closed = True
            self._cond.notify_all()

    def wait_closed(self, count: int = 1, timeout: float = 5.0) -> list[RecordedSession]:
        """Block until at least `count` sessions have ended; returns them (oldest first).

        Never call this on the emulator's own event loop thread (use the async variant).
        """
        with self._cond:
            if not self._cond.wait_for(
                lambda: sum(s.closed for s in self.sessions) >= count, timeout
            ):
                raise TimeoutError(f"fewer than {count} emulator sessions closed in {timeout} s")
            return [s for s in self.sessions if s.closed]
