"""Machinery shared by the v3 and v2 sessions: reading, ordered sending, closing.

The socket is read by one loop for the whole life of the connection, also while the server
is closing after an error.  That matters (PROTOCOL.md §10): websockets stops reading the
socket after 16 unread messages, and a handler that stopped iterating would never see the
client's close frame, hanging both sides until their close timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from .config import EmulatorConfig
from .recording import RecordedSession, TrafficLog

MAX_REASON_BYTES = 123  # RFC 6455 control-frame limit, PROTOCOL.md §4.1 "Error"
LONG_REASON = "See Error message for details"


@dataclass(frozen=True)
class CloseRequest:
    """Queued after messages that must reach the client before the close frame."""

    code: int
    reason: str


@dataclass(frozen=True)
class DropRequest:
    """Queued after messages that must reach the client before the TCP connection drops."""


def fit_reason(reason: str, error_frame_sent: bool) -> str:
    """A close reason of at most 123 UTF-8 bytes.

    The 2026 service replaces an over-long reason by `See Error message for details` when an
    Error frame carried the full text (PROTOCOL.md §4.1); without an Error frame nothing says
    what it did, so the text is truncated (UNCERTAIN).
    """
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    if error_frame_sent:
        return LONG_REASON
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class SessionBase:
    def __init__(
        self,
        ws: ServerConnection,
        record: RecordedSession,
        config: EmulatorConfig,
        recorder: TrafficLog,
    ) -> None:
        self.ws = ws
        self.record = record
        self.config = config
        self._recorder = recorder
        self.loop = asyncio.get_running_loop()
        self.started_at = self.loop.time()
        self.closing = False
        self._outbox: asyncio.Queue[dict[str, Any] | CloseRequest | DropRequest] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server_close: tuple[int, str] | None = None
        self.stalled = False
        self._stall_end = asyncio.Event()  # set by abort(): a stall ends only by a TCP drop

    # -- hooks -------------------------------------------------------------------------

    async def start(self) -> None:
        """Runs before the first message is read; must not wait (spawn tasks instead)."""

    def on_binary(self, data: bytes) -> None:
        """Must not block: the read loop has to keep draining the socket."""

    def on_text(self, text: str) -> None:
        """Must not block: the read loop has to keep draining the socket."""

    # -- running -----------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            try:
                await self.start()
            except Exception:
                # E.g. a recogniser factory that raises: report it like a server fault.
                self.ws.logger.error("emulator session setup failed", exc_info=True)
                self.on_internal_error()
            async for message in self.ws:
                if self.stalled:
                    # Frozen: what websockets had buffered is never "read" by the service.
                    await self._stall_end.wait()
                    continue
                if isinstance(message, bytes):
                    self.record.frames_received += 1
                    self.record.audio_bytes_received += len(message)
                    self._recorder.changed()
                    if not self.closing:
                        self.on_binary(message)
                else:
                    self.record.text_messages_received.append(message)
                    if not self.closing:
                        self.on_text(message)
        except ConnectionClosed:
            pass  # the close code is read from the connection below
        finally:
            await self._finish()

    async def _finish(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server_close is not None:
            self.record.close_code, self.record.close_reason = self._server_close
        else:
            self.record.close_code = self.ws.close_code
            self.record.close_reason = self.ws.close_reason
        self._recorder.mark_closed(self.record)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A failing recogniser or emulator bug must not look like a silent, healthy server.
            self.ws.logger.error("emulator session task failed", exc_info=task.exception())
            self.on_internal_error()

    def on_internal_error(self) -> None:
        self.abort()

    def elapsed(self) -> float:
        return self.loop.time() - self.started_at

    # -- sending -----------------------------------------------------------------------

    async def send_json(self, message: dict[str, Any]) -> None:
        if await self.send_raw(json.dumps(message)):
            self.record.messages_sent.append(message)
            self._recorder.changed()

    async def send_raw(self, text: str) -> bool:
        """False when the connection was already closed or is stalled (nothing recorded)."""
        if self.stalled:
            return False
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            return False
        self.record.raw_frames_sent.append(text)
        self._recorder.changed()
        return True

    def enqueue(self, item: dict[str, Any] | CloseRequest | DropRequest) -> None:
        self._outbox.put_nowait(item)

    async def drain_outbox(self) -> None:
        """Send queued messages in order until a `CloseRequest` is reached."""
        while True:
            item = await self._outbox.get()
            if self.closing:
                return
            if isinstance(item, CloseRequest):
                await self.close(item.code, item.reason)
                return
            if isinstance(item, DropRequest):
                self.abort()
                return
            await self.send_json(item)

    # -- closing -----------------------------------------------------------------------

    def fail(self, code: int, reason: str, frame: dict[str, Any] | None = None) -> None:
        """Close with an error: optional error frame first, then the close frame."""
        if self.closing or self.stalled:
            return
        self.closing = True
        self.spawn(self._fail(code, reason, frame))

    async def _fail(self, code: int, reason: str, frame: dict[str, Any] | None) -> None:
        if frame is not None:
            await self.send_json(frame)
        await self.close(code, fit_reason(reason, frame is not None), already_closing=True)

    async def close(self, code: int, reason: str, *, already_closing: bool = False) -> None:
        if (self.closing and not already_closing) or self.stalled:
            return
        self.closing = True
        reason = fit_reason(reason, error_frame_sent=False)
        if self.ws.state is State.OPEN:  # else the client's close frame came first
            self._server_close = (code, reason)
        # The read loop keeps draining meanwhile, so the client's close frame is seen.
        await self.ws.close(code, reason)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (client sees 1006)."""
        self.closing = True
        self._server_close = (1006, "")
        self._stall_end.set()
        self.ws.transport.abort()

    def stall(self) -> None:
        """Freeze like a hung server or a black-holed route: the socket stays open, nothing is
        read (not even pings or the client's close frame), nothing is sent, no timer closes it.

        Only a TCP drop ends it: `abort()` (`Emulator.drop_all()`, emulator shutdown), or the
        client giving up and closing its socket, noticed by polling for the peer's hang-up
        (reading is paused, so the event loop would never see the FIN itself).
        """
        if self.stalled or self.closing:
            return
        self.stalled = True
        self.record.stalled = True
        self._recorder.changed()
        self.ws.transport.pause_reading()
        if self.ws.keepalive_task is not None:  # a hung server does not ping either
            self.ws.keepalive_task.cancel()
        self.spawn(self._watch_peer_hangup())

    async def _watch_peer_hangup(self) -> None:
        sock = self.ws.transport.get_extra_info("socket")
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        while not self._stall_end.is_set():
            if poller.poll(0):
                self.abort()
                return
            with contextlib.suppress(TimeoutError):
                # Polled: the paused transport owns the descriptor, so no reader can be added.
                async with asyncio.timeout(0.05):
                    await self._stall_end.wait()
