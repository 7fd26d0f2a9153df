"""The AssemblyAI Universal Streaming (v3) client: a thin asyncio shell around ``app.core``.

How one session runs::

    start()  ── connect (key in the Authorization header, or ?token= from a temporary token)
             ── reader task: parse every frame (app.core.messages), drive the state machine,
                hand Begin/Turn/Termination to the owner's sink
             ── wait for Begin (bounded); audio handed in meanwhile is buffered (bounded)
    send_audio(pcm)  ── re-chunk to 100 ms messages (WIRE_FRAME_MS), queue (bounded,
                        drop-oldest), writer task sends
    stop()   ── flush the partial frame, drain the queue, send Terminate, keep reading until
                Termination (bounded wait) so the last words arrive, then close 1000

Errors: every way a session can end badly becomes one typed error from ``app.core.errors``
(refused upgrade → HTTP status table; close frame → close-code table, refined by an ``Error``
frame or bare ``{"error": …}`` received just before; no close frame → connection lost). It is
reported once through the sink as :class:`SessionFailed` and raised by ``start`` /
``wait_closed``. ``stop`` never raises.

Secrets: the key goes only into the ``Authorization`` header. It is never in a URL, and the
websockets library's own logger (which prints request headers at DEBUG) is given a filter
that redacts the key and the token.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass
from typing import Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.protocol import State

from app.core import messages
from app.core.audio import (
    MIN_MESSAGE_MS,
    WIRE_FRAME_BYTES,
    WIRE_FRAME_MS,
    FrameChunker,
    bytes_for_ms,
)
from app.core.config import AuthMode, Endpoints, StreamingParams, build_query
from app.core.errors import (
    ConnectionFailedError,
    LiveTranscriberError,
    ProtocolError,
    error_for_close,
    error_for_http_status,
    redact,
)
from app.core.ports import EventSink
from app.core.session import SessionEvent, SessionState
from app.io.cloud.reach import host_of, unreachable
from app.io.cloud.tokens import USER_AGENT, fetch_temporary_token, malformed_key, service_error_text
from app.io.cloud.uplink import UplinkProgress, bound_send_buffers
from app.io.lazy_sleep import shortest, sleeps_of
from app.io.lifecycle import EngineLifecycle

log = logging.getLogger(__name__)

API_VERSION: Final = "2025-05-12"  # what the official SDK announces (PROTOCOL.md §1.2)


@dataclass(frozen=True)
class StreamingOptions:
    connect_timeout: float = 10.0  # TCP + TLS + upgrade
    begin_timeout: float = 10.0  # upgrade done → Begin
    terminate_timeout: float = 5.0  # Terminate sent → Termination (as the official SDK)
    max_queued_ms: int = 10_000  # audio held while connecting or when the network lags
    token_expires_in: int = 60  # temporary token redemption window, seconds
    # A link that goes silent (black-holed route, hung server: the socket stays open, nothing
    # comes back) ends the session after ``silence_timeout`` with nothing heard — no message,
    # not even the pong to a ping sent every ``ping_interval``. websockets' own keepalive
    # (20 s + 20 s, then the close timeout, and stuck behind a full send buffer) would take
    # 45 s or more. A live service answers a ping within its round trip plus the audio queued
    # ahead of it (the writer keeps at most ~2 s queued; ~1 s more in the socket buffers), so
    # 6 s of silence is a dead link, noticed 6-8 s after its last answer. On a link slower
    # than real time the ping also waits behind the audio ahead of it: while audio keeps
    # leaving, the link is alive, and silence ends the session only after
    # ``slow_silence_timeout``.
    ping_interval: float = 2.0
    silence_timeout: float = 6.0
    slow_silence_timeout: float = 20.0


class _SecretFilter(logging.Filter):
    """Redacts every secret any session has used from the records of the websockets logger.

    One filter for the process: secrets are only ever added (a key and short-lived tokens),
    so concurrent sessions cannot un-redact each other's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact(text, self._secrets)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


# websockets logs request lines and headers at DEBUG through the logger it is given.
_WS_LOG = logging.getLogger("app.io.cloud.session.websocket")
_WS_SECRETS = _SecretFilter()
_WS_LOG.addFilter(_WS_SECRETS)


class StreamingSession(EngineLifecycle):
    """One streaming session with AssemblyAI (implements ``app.core.ports.TranscriptionEngine``)."""

    def __init__(
        self,
        endpoints: Endpoints,
        api_key: str,
        params: StreamingParams,
        sink: EventSink,
        *,
        auth_mode: AuthMode = AuthMode.HEADER,
        options: StreamingOptions | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        super().__init__(sink)
        self._endpoints = endpoints
        self._api_key = api_key
        self._params = params
        self._auth_mode = auth_mode
        self._options = options or StreamingOptions()
        self._chunker = FrameChunker(WIRE_FRAME_BYTES)
        self._queue: collections.deque[bytes] = collections.deque(
            maxlen=max(1, self._options.max_queued_ms // WIRE_FRAME_MS)
        )
        self._secrets: tuple[str, ...] = (api_key,)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._heard = 0  # frames and pongs received: the watchdog sees whether it moved
        self._begun = asyncio.Event()
        self._terminated = asyncio.Event()
        self._last_error_frame: messages.ErrorMessage | None = None
        self._start_abandoned = False
        self.session_id: str | None = None
        self.dropped_frames = 0
        self.sent_frames = 0
        self._writer_idle = False  # the writer task waits for work: a message may go at once

    # --- public API ----------------------------------------------------------------------

    async def start(self) -> None:
        self._machine.handle(SessionEvent.CONNECT)
        try:
            await self._connect_and_wait_for_begin()
        except asyncio.CancelledError:
            self._start_abandoned = True
            raise

    async def _connect_and_wait_for_begin(self) -> None:
        try:
            malformed_key(self._api_key)
            self._ws = await self._open()
        except LiveTranscriberError as exc:
            self._fail(exc)
            raise
        self._reader = asyncio.create_task(self._read_loop(), name="assemblyai-reader")
        self._writer = asyncio.create_task(self._write_loop(), name="assemblyai-writer")
        self._watchdog = asyncio.create_task(self._watch_silence(), name="assemblyai-liveness")
        begun = asyncio.create_task(self._begun.wait())
        closed = asyncio.create_task(self._closed.wait())
        try:
            await asyncio.wait({begun, closed}, timeout=self._options.begin_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            begun.cancel()
            closed.cancel()
        if self._error is not None:
            raise self._error
        if not self._begun.is_set():
            error = ConnectionFailedError(
                "AssemblyAI accepted the connection but did not start the session in time.",
                remedy="Try again in a moment; check the service status if it persists.",
            )
            self._fail(error)
            await self._shutdown()
            raise error

    def send_audio(self, pcm: bytes) -> None:
        """Queue 16 kHz mono s16le audio of any length; sent in 100 ms messages. Never blocks."""
        if not self.state.is_active:
            return
        for frame in self._chunker.push(pcm):
            self._enqueue(frame)

    async def stop(self) -> None:
        if self.state.is_final or self.state is SessionState.IDLE:
            if self.state is SessionState.IDLE:
                self._machine.handle(SessionEvent.FAIL)
            await self._join_tasks()  # a failed session's tasks end with its connection
            return
        if self.state is SessionState.STOPPING:
            await self._closed.wait()
            return
        if not self._begun.is_set() and self._start_abandoned:
            # start() was cancelled (Stop while connecting): its caller holds the audio and
            # nothing was transcribed, so there is no Terminate handshake to wait for.
            self._machine.handle(SessionEvent.STOP)
            self._machine.handle(SessionEvent.TERMINATED)
            self._closed.set()
            self._wake.set()
            await self._shutdown()
            return
        # The last words: at least the shortest message the service takes, not a whole one.
        tail = self._chunker.flush(bytes_for_ms(MIN_MESSAGE_MS))
        if tail is not None:
            self._enqueue(tail)
        self._machine.handle(SessionEvent.STOP)
        self._wake.set()  # wake the writer: it drains, then sends Terminate
        try:
            await asyncio.wait_for(self._closed.wait(), self._options.begin_timeout
                                   + self._options.terminate_timeout)
        except TimeoutError:
            log.warning("service did not end the session in time; closing")
            if not self.state.is_final:
                self._fail(ConnectionFailedError(
                    "AssemblyAI did not confirm the end of the session; the last words may be "
                    "missing.", remedy="Check your connection."))
        await self._shutdown()

    # --- connecting ----------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        headers = {"AssemblyAI-Version": API_VERSION}
        token: str | None = None
        if self._auth_mode is AuthMode.TOKEN:
            token = await fetch_temporary_token(
                self._endpoints.token_url, self._api_key,
                expires_in_seconds=self._options.token_expires_in,
                socket_timeout=self._options.connect_timeout,
            )
            self._secrets = (self._api_key, token)
        else:
            headers["Authorization"] = self._api_key
        url = f"{self._endpoints.websocket_url}?{build_query(self._params, token)}"
        _WS_SECRETS.add(*self._secrets)  # before connecting: the request line has the token
        try:
            ws = await connect(
                url,
                additional_headers=headers,
                user_agent_header=f"{USER_AGENT} websockets",
                open_timeout=self._options.connect_timeout,
                close_timeout=self._options.terminate_timeout,
                logger=_WS_LOG,
                max_size=2**22,
                # PCM audio hardly compresses: deflating every audio message only costs CPU.
                compression=None,
                ping_interval=None,  # _watch_silence pings, and notices silence sooner
            )
            bound_send_buffers(ws)
            return ws
        except InvalidStatus as exc:
            body = bytes(exc.response.body or b"")
            raise error_for_http_status(
                exc.response.status_code, service_error_text(body), secrets=self._secrets
            ) from None
        except (InvalidURI, InvalidHandshake):
            raise ConnectionFailedError(
                "The service at the configured address does not speak the streaming protocol.",
                remedy="Check LIVE_TRANSCRIBER_STREAMING_URL or the region in Settings.",
            ) from None
        except (OSError, TimeoutError) as exc:
            log.info("streaming endpoint unreachable: %s", type(exc).__name__)
            raise unreachable(exc, host_of(self._endpoints.websocket_url),
                              self._secrets) from None

    # --- the two tasks -------------------------------------------------------------------

    async def _read_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for frame in ws:
                self._on_frame(frame)
                if self._terminated.is_set():
                    break
        except ConnectionClosed:
            pass  # the close code below tells what happened
        except ProtocolError as exc:
            self._fail(exc)
            await ws.close(1000)
        except Exception as exc:  # a bug handling a message: end the session loudly
            log.exception("handling a message from the service failed")
            self._fail(LiveTranscriberError(
                "Live Transcriber could not handle a message from AssemblyAI.",
                remedy="It reconnects by itself; if it keeps happening, report it with the "
                "app's log.", retryable=True, detail=type(exc).__name__))
            await ws.close(1000)
        finally:
            # Whatever ended the loop (even a bug in the owner's sink), stop() and
            # wait_closed() must not wait forever.
            self._closed.set()
            self._wake.set()
        self._on_closed(ws)

    def _on_frame(self, frame: str | bytes) -> None:
        self._heard += 1
        message = messages.parse(frame)
        if isinstance(message, messages.Begin) and self._begun.is_set():
            log.warning("ignoring a repeated Begin from the service")
        elif isinstance(message, messages.Begin):
            self.session_id = message.id
            self._machine.handle(SessionEvent.BEGIN)
            self._begun.set()
            self._wake.set()
            self._sink(message)
        elif isinstance(message, messages.Turn):
            self._sink(message)
        elif isinstance(message, messages.Termination):
            self._terminated.set()
            self._sink(message)
        elif isinstance(message, messages.ErrorMessage):
            self._last_error_frame = message
        else:
            log.info("ignoring %s message from the service", type(message).__name__)

    def _on_closed(self, ws: ClientConnection) -> None:
        if self.state.is_final:
            return
        code = ws.close_code if ws.close_code is not None else 1006
        reason = ws.close_reason or ""
        sent = ws.protocol.close_sent
        if code == 1006 and sent is not None and sent.code in (1002, 1007, 1009):
            # We failed the connection because the service broke the protocol (e.g. a frame
            # over max_size): that, not a network drop, is what happened.
            code, reason = sent.code, sent.reason
        frame = self._last_error_frame
        if frame is not None:
            # The Error frame carries the full text; the close reason may be a placeholder.
            reason = frame.error or reason
            if code == 1000:
                code = frame.error_code or 3005
        if self._terminated.is_set() or (code == 1000 and frame is None):
            self._machine.handle(SessionEvent.TERMINATED)
            return
        error = error_for_close(code, reason, secrets=self._secrets)
        self._fail(error or ConnectionFailedError("The connection to AssemblyAI closed."))

    async def _write_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            while True:
                self._writer_idle = True
                try:
                    await self._wake.wait()
                finally:
                    self._writer_idle = False
                self._wake.clear()
                if self._closed.is_set():
                    return
                if not self._begun.is_set():
                    continue  # Begin sets the event again; until then audio stays queued
                while self._queue:
                    frame = self._queue.popleft()
                    await ws.send(frame)
                    self.sent_frames += 1
                    self._room.set()
                if self.state is SessionState.STOPPING:
                    await ws.send(messages.serialize(messages.Terminate()))
                    return
        except ConnectionClosed:
            return  # the reader reports why

    async def _watch_silence(self) -> None:
        """End the session when the service has answered nothing — no message, no pong — for
        ``silence_timeout``: the link is dead although the socket is open.

        Silence is counted in ticks of ``ping_interval`` (:func:`app.io.lazy_sleep.lazy_sleep`:
        they ride on the audio hand-offs), each worth at most two intervals, so
        a loop that was starved (a loaded machine: the answers are waiting unread in the
        socket) is not taken for a silent service. Pings go from their own task: on a dead
        link a ping can wait forever for room in the send buffer, and the count goes on.

        On a link slower than real time a ping waits behind the audio written before it, so
        its answer is late, not missing: the limit grows by the time that audio takes to be
        acknowledged at the link's recent pace (app/io/cloud/uplink.py), up to
        ``slow_silence_timeout``. Ending the session there would only reconnect into the same
        link and send the held audio again (the recorder says the link is slow, and Automatic
        mode goes offline). A dead route acknowledges nothing, and a hung server's socket
        takes everything at once, so neither gets more than ``silence_timeout``.
        """
        ws = self._ws
        assert ws is not None
        options = self._options
        loop = asyncio.get_running_loop()
        pinger: asyncio.Task[None] | None = None
        heard, silent_s, tick = self._heard, 0.0, loop.time()
        # The link's pace over the last two ticks: a tick can end early (they ride on the
        # audio hand-offs), so the window is two of the shortest ticks.
        uplink = UplinkProgress(ws, window_s=2 * shortest(options.ping_interval), now=tick)
        closed = asyncio.ensure_future(self._closed.wait())
        sleeps = sleeps_of(loop)
        ticked: asyncio.Future[None] | None = None
        delay = options.ping_interval
        try:
            while not closed.done():
                if pinger is None or pinger.done():
                    pinger = asyncio.create_task(self._ping(ws), name="assemblyai-ping")
                # A tick ends at an audio hand-off while audio is sent (no wake-up of its own,
                # and the ping leaves beside the audio), a little early rather than late.
                ticked = sleeps.sleep(delay)
                await asyncio.wait((closed, ticked), return_when=asyncio.FIRST_COMPLETED)
                if closed.done():
                    return
                now = loop.time()
                step, tick = min(now - tick, 2 * options.ping_interval), now
                if self._heard != heard:
                    heard, silent_s, delay = self._heard, 0.0, options.ping_interval
                    continue
                silent_s += step
                # A ping waits behind the audio already written (this session's own queue is
                # not ahead of it): on a slow link its answer is that much later.
                late_s = uplink.answer_delay_s(now)
                limit = min(options.slow_silence_timeout, options.silence_timeout + late_s)
                if silent_s >= limit:
                    self._fail(ConnectionFailedError(
                        f"AssemblyAI stopped answering: nothing came back for "
                        f"{silent_s:.0f} s, not even a reply to a ping.",
                        remedy="It reconnects by itself; check your internet connection if "
                        "it keeps happening."))
                    ws.transport.abort()  # a dead link: no closing handshake to wait for
                    return
                # Ticks that end early must not postpone the verdict: the next one comes no
                # later than the moment the silence reaches the limit.
                delay = min(options.ping_interval, limit - silent_s)
        finally:
            if ticked is not None:
                ticked.cancel()
            for task in (pinger, closed):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _ping(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            pong = await ws.ping()
            await pong
            self._heard += 1

    def abandon(self, error: LiveTranscriberError) -> None:
        """End the session now with ``error``, without sending what is queued or waiting for
        the last words: its owner holds that audio and another engine will hear it (Automatic
        mode on a link too slow to keep up). The owner sees :class:`SessionFailed`; its
        :meth:`stop` then releases the tasks."""
        self._fail(error)
        if self._ws is not None:
            self._ws.transport.abort()  # the backlog in the socket is not worth sending

    def queued_ms(self) -> int:
        return len(self._queue) * WIRE_FRAME_MS

    def _enqueue(self, frame: bytes) -> None:
        if not self._queue and self._writer_idle and self._send_now(frame):
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped_frames += 1  # deque drops the oldest
        self._queue.append(frame)
        self._wake.set()

    def _send_now(self, frame: bytes) -> bool:
        """Write ``frame`` at once when nothing is queued or waiting before it: the writer
        task idles, the connection is open and its transport has taken everything so far
        (so ``ws.send`` would not wait either). It saves the loop a pass (waking the writer)
        per message. False: the writer sends it, in order, waiting for room as needed."""
        ws = self._ws
        if (ws is None or not self._begun.is_set() or self.state is not SessionState.STREAMING
                or ws.protocol.state is not State.OPEN or ws.transport.is_closing()
                or ws.transport.get_write_buffer_size()):
            return False
        # What ws.send does for one binary message on an open connection, minus the wait
        # for the transport's buffer (empty, checked above): frame it with the sans-I/O
        # protocol and hand its bytes to the transport.
        ws.protocol.send_binary(frame)
        for data in ws.protocol.data_to_send():
            ws.transport.write(data)  # open: only frames, never the end-of-stream marker
        self.sent_frames += 1
        self._room.set()
        return True

    # --- ending --------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        ws = self._ws
        if ws is not None:
            await ws.close(1000)
        await self._join_tasks()

    async def _join_tasks(self) -> None:
        for task in (self._watchdog, self._writer, self._reader):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

