"""Raw-protocol helpers for testing the emulator (no app code involved)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

KEY = "test-key"
RATE = 16000


def pcm(ms: int, rate: int = RATE) -> bytes:
    """`ms` milliseconds of 16-bit mono silence."""
    return b"\x00\x00" * (rate * ms // 1000)


def v3_url(base: str, query: str = "sample_rate=16000") -> str:
    return f"{base}/v3/ws?{query}" if query else f"{base}/v3/ws"


def open_ws(url: str, headers: dict[str, str] | None = None) -> connect:
    return connect(url, additional_headers=headers or {}, open_timeout=3, close_timeout=3)


@dataclass
class Outcome:
    """Everything the client got until the connection closed."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    code: int | None = None
    reason: str | None = None

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]


async def recv_json(ws: ClientConnection, seconds: float = 3.0) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        message = await ws.recv()
    assert isinstance(message, str), message
    decoded = json.loads(message)
    assert isinstance(decoded, dict)
    return decoded


async def collect(ws: ClientConnection, seconds: float = 4.0) -> Outcome:
    """Read until the server closes (or `seconds` pass, which fails the test)."""
    outcome = Outcome()
    async with asyncio.timeout(seconds):
        try:
            async for message in ws:
                assert isinstance(message, str), "the emulator only sends text frames"
                outcome.raw.append(message)
                try:
                    decoded = json.loads(message)
                except ValueError:
                    continue  # malformed frames are kept in .raw only
                outcome.messages.append(decoded)
        except ConnectionClosed:
            pass  # an error close; the code is read below
        await ws.wait_closed()
    outcome.code = ws.close_code
    outcome.reason = ws.close_reason
    return outcome


def assert_turn_shape(turn: dict[str, Any]) -> None:
    """The field types the official SDK validates (PROTOCOL.md §10)."""
    assert turn["type"] == "Turn"
    assert type(turn["turn_order"]) is int
    assert type(turn["turn_is_formatted"]) is bool
    assert type(turn["end_of_turn"]) is bool
    assert isinstance(turn["transcript"], str)
    assert isinstance(turn["utterance"], str)
    assert type(turn["end_of_turn_confidence"]) is float
    for word in turn["words"]:
        assert type(word["start"]) is int and type(word["end"]) is int
        assert word["start"] <= word["end"]
        assert type(word["confidence"]) is float
        assert isinstance(word["text"], str) and word["text"]
        assert type(word["word_is_final"]) is bool


@dataclass
class HttpResult:
    status: int
    body: Any


def _http(url: str, method: str, headers: dict[str, str], data: bytes | None) -> HttpResult:
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return HttpResult(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        with error:
            return HttpResult(error.code, json.loads(error.read()))


async def http(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> HttpResult:
    return await asyncio.to_thread(_http, url, method, headers or {}, data)


async def mint_token(http_url: str, expires_in: int = 60, key: str = KEY) -> str:
    result = await http(
        f"{http_url}/v3/token?expires_in_seconds={expires_in}", headers={"Authorization": key}
    )
    assert result.status == 200, result
    token = result.body["token"]
    assert isinstance(token, str)
    return token
