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
from collections import deque
from typing import Final

from websockets.asyncio.client import ClientConnection

from app.core.audio import WIRE_FRAME_BYTES

SEND_BUFFER_BYTES: Final = 32 * 1024
WRITE_BUFFER_BYTES: Final = 2 * WIRE_FRAME_BYTES

# struct tcp_info (linux/tcp.h, stable since 4.6): u32 tcpi_snd_mss at 16, u32 tcpi_unacked
# (segments in flight) at 24, u64 tcpi_bytes_acked at 120, u32 tcpi_notsent_bytes at 144.
_TCP_INFO: Final = getattr(socket, "TCP_INFO", None)
_TCP_INFO_BYTES: Final = 148
_U32: Final = struct.Struct("=I")
_U64: Final = struct.Struct("=Q")


def bound_send_buffers(ws: ClientConnection) -> None:
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    ws.transport.set_write_buffer_limits(high=WRITE_BUFFER_BYTES, low=WRITE_BUFFER_BYTES // 2)


def tcp_progress(sock: socket.socket | None) -> tuple[int, int] | None:
    """(bytes the other end has acknowledged, bytes still ahead of anything written now: not
    yet sent, or sent and not yet acknowledged), or None where the system does not say."""
    if sock is None or _TCP_INFO is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCP_INFO_BYTES)
    except OSError:
        return None
    if len(info) < _TCP_INFO_BYTES:
        return None
    in_flight = _U32.unpack_from(info, 24)[0] * _U32.unpack_from(info, 16)[0]
    return _U64.unpack_from(info, 120)[0], _U32.unpack_from(info, 144)[0] + in_flight


class UplinkProgress:
    """Asked once per liveness tick: how long may the service's answer to a ping take, given
    the audio ahead of it on this link? (A ping waits behind every byte written before it.)

    The link's pace is what the other end acknowledged over the last ``window_s``
    (acknowledgements come in bursts on a congested link); the audio ahead is what the kernel
    has not had acknowledged plus the connection's own buffer. A link that acknowledged
    nothing over the window gives no allowance: dead, or a server whose receive buffer is
    full. A hung server whose socket still takes everything has almost nothing ahead at a
    fast pace, so no allowance either."""

    def __init__(self, ws: ClientConnection, window_s: float, now: float) -> None:
        self._ws = ws
        self._window_s = window_s
        self._sock: socket.socket | None = ws.transport.get_extra_info("socket")
        first = tcp_progress(self._sock)
        self._samples: deque[tuple[float, int]] = deque(
            [(now, first[0])] if first is not None else [])

    def answer_delay_s(self, now: float) -> float:
        """Seconds the audio ahead of a ping now takes to be acknowledged at the link's
        recent pace; 0 where unknown or the link did not move."""
        progress = tcp_progress(self._sock)
        if progress is None:
            return 0.0
        acked, ahead = progress
        self._samples.append((now, acked))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._window_s:
            self._samples.popleft()
        (since, acked_then) = self._samples[0]
        if acked <= acked_then or now <= since:
            return 0.0
        pace = (acked - acked_then) / (now - since)  # bytes per second
        return (ahead + self._ws.transport.get_write_buffer_size()) / pace
