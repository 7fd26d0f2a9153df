"""A slow uplink on loopback: a TCP proxy in front of the emulator that carries the client's bytes
at a fixed rate (the service's answers go at full speed), as a congested upload or a poor
mobile link does. Small socket buffers on the throttled side, so the back-pressure reaches the
client at once instead of piling up in the kernel.

    async with throttled_link(emu.url, bytes_per_s=16_000) as url:   # half of 16 kHz s16le
        ... connect to url instead of emu.url ...
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

_BUFFER = 8192  # bytes: SO_RCVBUF of the proxy's client side, and one paced read
_SEGMENT = 1460  # bytes: the largest TCP segment on an Ethernet path


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                bytes_per_s: float | None) -> None:
    try:
        while data := await reader.read(_SEGMENT if bytes_per_s else 65536):
            writer.write(data)
            await writer.drain()
            if bytes_per_s:
                await asyncio.sleep(len(data) / bytes_per_s)  # the link's rate
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def throttled_link(url: str, *, bytes_per_s: float) -> AsyncIterator[str]:
    """``url`` (ws://host:port) behind a proxy whose uplink carries ``bytes_per_s``; yields the
    proxy's URL."""
    target = urlsplit(url)
    assert target.hostname is not None and target.port is not None
    tasks: set[asyncio.Task[None]] = set()

    async def handle(client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        sock = client_writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                target.hostname, target.port)
        except OSError:
            client_writer.close()
            return
        up = asyncio.ensure_future(_pipe(client_reader, upstream_writer, bytes_per_s))
        down = asyncio.ensure_future(_pipe(upstream_reader, client_writer, None))
        tasks.update((up, down))
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        client_writer.close()
        upstream_writer.close()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Segments of an internet path, not loopback's 64 KiB: with those, the proxy's small
    # receive window opens in steps of whole seconds (the receiver waits for a segment's worth
    # of room), where a real slow link acknowledges a little all the time.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, _SEGMENT)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(handle, sock=listener, limit=_BUFFER)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{target.scheme}://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
