"""A local, protocol-faithful AssemblyAI streaming server for tests (PROTOCOL.md §9, §10).

One `websockets` asyncio server answers, on one 127.0.0.1 port:

* WebSocket `/v3/ws` — Universal Streaming v3 (`v3.py`);
* WebSocket `/v2/realtime/ws` — the deprecated v2 endpoint, for the `auth_key=` failure (`v2.py`);
* HTTP `GET /v3/token`, `/v2/realtime/token` and 404 elsewhere (`http_api.py`).

`run_emulator()` serves on the caller's event loop; `EmulatorThread` serves on a private loop in
a background thread for synchronous and Qt tests.  Both expose what was requested and sent
(`requests`, `sessions`, `sessions_started`, `audio_bytes_per_session`), can mint or expire
temporary tokens directly, and control the service at run time for reconnect tests:
`service_down()` / `service_up()` (an outage: new connections refused, open sessions go on)
and `drop_all()` (every open session's TCP connection dropped now).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self, TypeVar

from websockets.asyncio.server import ServerConnection, serve

from .config import EmulatorConfig
from .http_api import V2_WS_PATH, BodyTolerantConnection, process_request, record_request
from .recording import RecordedRequest, RecordedSession
from .session import SessionBase
from .state import ServerState
from .v2 import V2Session
from .v3 import V3Session

_T = TypeVar("_T")

# Comfortably above the largest legal frame (1000 ms at 48 kHz s16le) so that over-long
# frames reach the 3007 check instead of websockets' own 1009 close.
_MAX_MESSAGE_BYTES = 16 * 2**20


def _host_in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class Emulator:
    """Handle on a running emulator (returned by `run_emulator`)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._state = ServerState(config)
        self.url = ""
        self.http_url = ""
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._state.recorder.requests

    @property
    def sessions(self) -> list[RecordedSession]:
        return self._state.recorder.sessions

    @property
    def sessions_started(self) -> int:
        """Accepted v3 sessions so far (credentials and query valid), refused ones not counted."""
        return len(self._state.recorder.accepted)

    @property
    def audio_bytes_per_session(self) -> list[int]:
        """Audio bytes each accepted v3 session received, in the order they started."""
        return [s.audio_bytes_received for s in self._state.recorder.accepted]

    # -- run-time control (any thread) -----------------------------------------------------

    def service_down(self, *, reset: bool = False) -> None:
        """An outage from now on: every new request (upgrade or token) is refused with HTTP 503
        `{"error": "Service Unavailable"}`, what a load balancer answers while no backend is
        healthy; `reset=True` resets the TCP connection instead (a dead edge).  Open sessions
        go on: combine with `drop_all()` for a full outage."""
        self._state.outage = "reset" if reset else "http-503"

    def service_up(self) -> None:
        self._state.outage = None

    @property
    def service_is_down(self) -> bool:
        return self._state.outage is not None

    def drop_all(self) -> int:
        """Abort every open session's TCP connection now (no close frame: clients see 1006).
        Returns how many were dropped."""

        def drop() -> int:
            live = [session for session in self._state.live if not session.closing]
            for session in live:
                session.abort()
            return len(live)

        return self._on_loop(drop)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Blocking, for other threads: re-checks `predicate` whenever the emulator records a
        session, a Begin, audio or a close.  Raises TimeoutError."""
        self._state.recorder.wait_until(predicate, timeout)

    async def wait_until_async(self, predicate: Callable[[], bool], seconds: float = 5.0) -> None:
        await asyncio.to_thread(self._state.recorder.wait_until, predicate, seconds)

    def wait_sessions_started(self, count: int, timeout: float = 5.0) -> None:
        """Blocking: until `count` v3 sessions were accepted.  Raises TimeoutError."""
        self.wait_until(lambda: self.sessions_started >= count, timeout)

    async def wait_sessions_started_async(self, count: int, seconds: float = 5.0) -> None:
        await self.wait_until_async(lambda: self.sessions_started >= count, seconds)

    def _on_loop(self, action: Callable[[], _T]) -> _T:
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            return action()

        async def call() -> _T:
            return action()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=5)

    def _abort_stalled(self) -> None:
        # A stalled session never answers websockets' closing handshake; drop it at shutdown
        # instead of waiting out the close timeout.
        for session in list(self._state.live):
            if session.stalled:
                session.abort()

    def issue_token(
        self, expires_in_seconds: int = 60, max_session_duration_seconds: int | None = None
    ) -> str:
        """Mint a token without the HTTP endpoint; no range checks, so tests may use tiny caps."""
        return self._state.tokens.issue(expires_in_seconds, max_session_duration_seconds)

    def expire_token(self, token: str) -> None:
        """Make `token` unredeemable, as if its redemption window had passed."""
        self._state.tokens.expire(token)

    def wait_sessions_closed(self, count: int = 1, timeout: float = 5.0) -> list[RecordedSession]:
        """Blocking; for other threads.  Raises TimeoutError."""
        return self._state.recorder.wait_closed(count, timeout)

    async def wait_sessions_closed_async(
        self, count: int = 1, seconds: float = 5.0
    ) -> list[RecordedSession]:
        """Server-side bookkeeping ends a moment after the client sees the close; wait for it."""
        return await asyncio.to_thread(self._state.recorder.wait_closed, count, seconds)

    def _bind(self, host: str, port: int) -> None:
        self.port = port
        self.url = f"ws://{_host_in_url(host)}:{port}"
        self.http_url = f"http://{_host_in_url(host)}:{port}"

    async def _handle(self, ws: ServerConnection) -> None:
        request = getattr(ws, "recorded_request", None)
        if not isinstance(request, RecordedRequest):  # always set by process_request
            assert ws.request is not None
            request = record_request(self._state, ws, ws.request)
        record = RecordedSession(request=request, path=request.path)
        self._state.recorder.add_session(record)
        session_type = V2Session if request.path == V2_WS_PATH else V3Session
        session: SessionBase = session_type(ws, record, self._state)
        self._state.live.add(session)
        try:
            await session.serve()
        finally:
            self._state.live.discard(session)


@asynccontextmanager
async def run_emulator(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Emulator]:
    """Serve until the block exits; open sessions are then closed with 1001 (going away)."""
    emulator = Emulator(config or EmulatorConfig())
    async with serve(
        emulator._handle,
        host,
        port,
        process_request=functools.partial(process_request, emulator._state),
        create_connection=BodyTolerantConnection,
        max_size=_MAX_MESSAGE_BYTES,
        close_timeout=2,
    ) as server:
        bound_port = int(server.sockets[0].getsockname()[1])
        emulator._bind(host, bound_port)
        emulator._loop = asyncio.get_running_loop()
        try:
            yield emulator
        finally:
            emulator._abort_stalled()


class EmulatorThread:
    """The same server on its own event loop in a daemon thread (for sync/Qt tests).

    Use as a context manager, or call `start()` / `stop()`.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._config = config or EmulatorConfig()
        self._host = host
        self._port = port
        self._emulator: Emulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="assemblyai-emulator", daemon=True)

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("EmulatorThread is not running")
        return self._emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def http_url(self) -> str:
        return self.emulator.http_url

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.emulator.requests

    @property
    def sessions(self) -> list[RecordedSession]:
        return self.emulator.sessions

    def issue_token(
        self, expires_in_seconds: int = 60, max_session_duration_seconds: int | None = None
    ) -> str:
        return self.emulator.issue_token(expires_in_seconds, max_session_duration_seconds)

    def expire_token(self, token: str) -> None:
        self.emulator.expire_token(token)

    def wait_sessions_closed(self, count: int = 1, timeout: float = 5.0) -> list[RecordedSession]:
        return self.emulator.wait_sessions_closed(count, timeout)

    @property
    def sessions_started(self) -> int:
        return self.emulator.sessions_started

    @property
    def audio_bytes_per_session(self) -> list[int]:
        return self.emulator.audio_bytes_per_session

    def service_down(self, *, reset: bool = False) -> None:
        self.emulator.service_down(reset=reset)

    def service_up(self) -> None:
        self.emulator.service_up()

    def drop_all(self) -> int:
        return self.emulator.drop_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        self.emulator.wait_until(predicate, timeout)

    def wait_sessions_started(self, count: int, timeout: float = 5.0) -> None:
        self.emulator.wait_sessions_started(count, timeout)

    def start(self, timeout: float = 5.0) -> Self:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("emulator thread did not start")
        if self._error is not None:
            raise RuntimeError("emulator failed to start") from self._error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.ident is None:  # never started
            return
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("emulator thread did not stop")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with run_emulator(self._config, host=self._host, port=self._port) as emulator:
                self._emulator = emulator
                self._ready.set()
                await self._stop.wait()
        except Exception as exc:  # handed to the starting thread, which re-raises it
            self._error = exc
        finally:
            self._ready.set()
