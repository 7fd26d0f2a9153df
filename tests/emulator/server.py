"""A local, protocol-faithful AssemblyAI streaming server for tests (PROTOCOL.md §9, §10).

One `websockets` asyncio server answers, on one 127.0.0.1 port:

* WebSocket `/v3/ws` — Universal Streaming v3 (`v3.py`);
* WebSocket `/v2/realtime/ws` — the deprecated v2 endpoint, for the `auth_key=` failure (`v2.py`);
* HTTP `GET /v3/token`, `/v2/realtime/token` and 404 elsewhere (`http_api.py`).

`run_emulator()` serves on the caller's event loop; `EmulatorThread` serves on a private loop in
a background thread for synchronous and Qt tests.  Both expose what was requested and sent
(`requests`, `sessions`) and can mint or expire temporary tokens directly.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from websockets.asyncio.server import ServerConnection, serve

from .config import EmulatorConfig
from .http_api import V2_WS_PATH, BodyTolerantConnection, process_request, record_request
from .recording import RecordedRequest, RecordedSession
from .session import SessionBase
from .state import ServerState
from .v2 import V2Session
from .v3 import V3Session

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

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._state.recorder.requests

    @property
    def sessions(self) -> list[RecordedSession]:
        return self._state.recorder.sessions

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
        await session.serve()


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
        yield emulator


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
