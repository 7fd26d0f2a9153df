"""The streaming socket's send side: bounded buffers, and whether a slow link is still moving.

The kernel's send buffer grows to megabytes (minutes of audio) on a slow uplink: audio in it
looks sent, is no longer held for a replay's sake in a way the app can measure, and a ping or
Terminate queues behind all of it. Bounded to ~2 s of audio (Linux doubles the value), the
backlog stays in the app: the feeder holds it, counts it and says so (app/io/recording). The
connection's own buffer above the socket is bounded the same way (websockets lets it reach
32 KiB before a send waits): two messages.

On a link slower than real time a ping waits behind that backlog, so its answer can take
longer than a dead link's silence limit. :class:`UplinkProgress` tells the two apart from the
kernel's own account of the connection (Linux ``TCP_INFO``): bytes wait to be sent and the
other end keeps acknowledging some — slow but alive. A dead route acknowledges nothing, and a
hung server's socket takes everything at once (nothing waits) until its receive buffer is
full, then acknowledges nothing more. Where ``TCP_INFO`` is not available the answer is
always "not known to be moving", which keeps the plain silence limit.
"""

from __future__ import annotations

import socket
import struct
from typing import Final

from websockets.asyncio.client import ClientConnection

from app.core.audio import WIRE_FRAME_BYTES

SEND_BUFFER_BYTES: Final = 32 * 1024
WRITE_BUFFER_BYTES: Final = 2 * WIRE_FRAME_BYTES

# struct tcp_info (linux/tcp.h, stable since 4.6): u64 tcpi_bytes_acked at 120, u32
# tcpi_notsent_bytes at 144.
_TCP_INFO: Final = getattr(socket, "TCP_INFO", None)
_TCP_INFO_BYTES: Final = 148
_BYTES_ACKED: Final = struct.Struct("=Q")
_NOTSENT: Final = struct.Struct("=I")


def bound_send_buffers(ws: ClientConnection) -> None:
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    ws.transport.set_write_buffer_limits(high=WRITE_BUFFER_BYTES, low=WRITE_BUFFER_BYTES // 2)


def tcp_progress(sock: socket.socket | None) -> tuple[int, int] | None:
    """(bytes the other end has acknowledged, bytes the kernel has not sent yet), or None
    where the system does not say."""
    if sock is None or _TCP_INFO is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCP_INFO_BYTES)
    except OSError:
        return None
    if len(info) < _TCP_INFO_BYTES:
        return None
    return _BYTES_ACKED.unpack_from(info, 120)[0], _NOTSENT.unpack_from(info, 144)[0]


class UplinkProgress:
    """Asked once per liveness tick: does audio that waits to go out keep leaving?

    Acknowledgements come in bursts on a slow link (a congested queue drains in runs), so
    "keeps leaving" means: some were acknowledged within the last ``window_s``."""

    def __init__(self, ws: ClientConnection, window_s: float, now: float) -> None:
        self._ws = ws
        self._window_s = window_s
        self._sock: socket.socket | None = ws.transport.get_extra_info("socket")
        first = tcp_progress(self._sock)
        self._acked = first[0] if first is not None else 0
        self._moved_at = now

    def draining(self, queued: bool, now: float) -> bool:
        """True when bytes wait to be sent (in the app's queue, the connection's buffer or
        the kernel) and the other end acknowledged more within the window."""
        progress = tcp_progress(self._sock)
        if progress is None:
            return False
        acked, notsent = progress
        if acked > self._acked:
            self._acked, self._moved_at = acked, now
        waiting = queued or notsent > 0 or self._ws.transport.get_write_buffer_size() > 0
        return waiting and now - self._moved_at <= self._window_s
