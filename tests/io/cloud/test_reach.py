"""Each way AssemblyAI cannot be reached gets its own sentence and fix, on all three paths (the
streaming socket, the token request, the file API), against real loopback servers: a TLS
server whose certificate nobody signed (a network that inspects secure traffic), a plain
server spoken to in TLS, a port nobody listens on, a server that accepts and never answers.
A name that cannot be looked up needs a resolver, so it is checked on the mapping alone."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import urllib.error
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from app.core import errors as e
from app.core.config import Endpoints, StreamingParams
from app.core.ports import EngineEvent
from app.io.cloud.prerecorded import PrerecordedClient
from app.io.cloud.reach import host_of, unreachable
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.cloud.tokens import fetch_temporary_token

KEY = "reach-test-key-0123456789abcdef0123"
QUICK = StreamingOptions(connect_timeout=1.0, begin_timeout=1.0, terminate_timeout=1.0)

Attempt = Callable[[str], Awaitable[object]]


async def _stream(base: str) -> None:
    def ignore(event: EngineEvent) -> None:
        pass
    scheme = "wss" if base.startswith("https") else "ws"
    ws_url = scheme + base.removeprefix("https").removeprefix("http") + "/v3/ws"
    session = StreamingSession(Endpoints(ws_url, f"{base}/v3/token"), KEY, StreamingParams(),
                               ignore, options=QUICK)
    try:
        await session.start()
    finally:
        await session.stop()


async def _token(base: str) -> str:
    return await fetch_temporary_token(f"{base}/v3/token", KEY, socket_timeout=1.0)


async def _file(base: str, flac: Path) -> None:
    await PrerecordedClient(base, KEY).transcribe(flac, lambda *_: None)


@pytest.fixture
def flac(tmp_path: Path) -> Path:
    path = tmp_path / "hello.flac"
    path.write_bytes(b"fLaC" + bytes(64))
    return path


@pytest.fixture
def attempts(flac: Path) -> dict[str, Attempt]:
    return {"streaming": _stream, "token": _token,
            "file": lambda base: _file(base, flac)}


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context whose certificate no authority signed, made by the real openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.fail(f"openssl could not make a certificate: {made.stderr}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@asynccontextmanager
async def serving(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                    Awaitable[None]],
                  tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    port: int = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def _answer_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.2 not what you expected\r\n" * 20)
    await writer.drain()
    writer.close()


async def _say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up
    writer.close()


@pytest.mark.parametrize("path", ["streaming", "token", "file"])
async def test_a_certificate_nobody_signed_is_named_with_the_fix(
        path: str, attempts: dict[str, Attempt], self_signed: ssl.SSLContext) -> None:
    async with serving(_say_nothing, tls=self_signed) as port:
        with pytest.raises(e.ConnectionFailedError) as caught:
            await attempts[path](f"https://127.0.0.1:{port}")
    error = caught.value
    assert error.message.startswith(
        f"The secure connection to 127.0.0.1:{port} could not be verified (self")
    assert "date and time" in error.remedy and "company proxy" in error.remedy
    assert error.retryable  # Automatic goes offline; a reconnect on another network may work
    assert KEY not in str(error) and KEY not in error.detail


@pytest.mark.parametrize("path", ["streaming", "token", "file"])
async def test_a_server_that_does_not_speak_tls(path: str, attempts: dict[str, Attempt]) -> None:
    async with serving(_answer_garbage) as port:
        with pytest.raises(e.ConnectionFailedError) as caught:
            await attempts[path](f"https://127.0.0.1:{port}")
    assert caught.value.message == f"A secure connection to 127.0.0.1:{port} could not be made."


@pytest.mark.parametrize("path", ["streaming", "token", "file"])
async def test_nothing_listening(path: str, attempts: dict[str, Attempt]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the attempt: nobody listens
    with pytest.raises(e.ConnectionFailedError) as caught:
        await attempts[path](f"http://127.0.0.1:{port}")
    assert caught.value.message == f"Nothing accepted the connection at 127.0.0.1:{port}."
    assert "firewall" in caught.value.remedy


@pytest.mark.parametrize("path", ["streaming", "token"])
async def test_a_server_that_never_answers(path: str, attempts: dict[str, Attempt]) -> None:
    async with serving(_say_nothing) as port:
        with pytest.raises(e.ConnectionFailedError) as caught:
            await attempts[path](f"http://127.0.0.1:{port}")
    assert caught.value.message == f"127.0.0.1:{port} did not answer in time."


@pytest.mark.parametrize("failure", [
    socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    urllib.error.URLError(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name "
                                                            "resolution")),
])
def test_a_name_that_cannot_be_looked_up(failure: Exception) -> None:
    error = unreachable(failure, host_of("wss://streaming.assemblyai.com/v3/ws"))
    assert error.message == ("The address streaming.assemblyai.com could not be looked up: this "
                             "computer seems to be offline, or its name service (DNS) is not "
                             "answering.")
    assert error.remedy == "Check your internet connection, or use the Offline engine."


def test_refusals_on_every_address_read_as_a_refusal() -> None:
    both = OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 443, 0, 0), "
                   "[Errno 111] Connect call failed ('127.0.0.1', 443)")
    mixed = OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 443), "
                    "[Errno 101] Network is unreachable")
    assert unreachable(both, "h").message == "Nothing accepted the connection at h."
    assert unreachable(mixed, "h").message == "Could not reach h."


def test_the_key_never_reaches_the_detail() -> None:
    leaky = OSError(f"connect to wss://x/?token={KEY} failed")
    assert KEY not in unreachable(leaky, "x", (KEY,)).detail
