"""Plain HTTP on the WebSocket port: the token endpoints (PROTOCOL.md §1.3).

* `GET /v3/token?expires_in_seconds=N[&max_session_duration_seconds=M]` with
  `Authorization: <raw key>` → 200 `{"token", "expires_in_seconds"}`; bad key → 401; missing
  or out-of-range values → 400; bodies are `{"error": str}` (spec `streaming-token.yml`).
  Other methods → 405 (the docs' prose says POST, the spec and SDKs use GET; UNCERTAIN what
  the service answers to POST).
* `/v2/realtime/token` (any method) → 401 `{"error": "Not authorized"}`: v2 is no longer
  supported (SUPPORT, 2025-09-30).
* `/v3/ws` and `/v2/realtime/ws` continue into the WebSocket handshake.
* Any other path → 404 JSON, also for upgrade requests (a judgement call: the real edge's
  answer is unknown; an HTTP refusal makes mistyped paths fail loudly).
* During an outage (`Emulator.service_down`) every request, upgrade or token, is refused:
  503 `{"error": "Service Unavailable"}` (what a load balancer with no healthy backend
  answers), or a TCP reset (RST) right after the request head arrived.

websockets' HTTP parser refuses requests with a body; the v2 SDK POSTs `{"expires_in": N}`
to its token endpoint, so `BodyTolerantConnection` strips a small body off before parsing and
keeps it for the record.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import struct
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .config import SESSION_MAX_SECONDS, SESSION_MIN_SECONDS, TOKEN_MIN_EXPIRES_IN
from .recording import RecordedRequest
from .state import ServerState

V3_WS_PATH = "/v3/ws"
V2_WS_PATH = "/v2/realtime/ws"
V3_TOKEN_PATH = "/v3/token"
V2_TOKEN_PATH = "/v2/realtime/token"

_MAX_HEAD = 64 * 1024
_MAX_BODY = 64 * 1024
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r\n")


class BodyTolerantConnection(ServerConnection):
    """A `ServerConnection` that accepts (and records) a small HTTP request body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded_request: RecordedRequest | None = None
        self.request_body = b""
        self._head = bytearray()
        self._head_done = False

    def data_received(self, data: bytes) -> None:
        if self._head_done:
            super().data_received(data)
            return
        # Hold everything back until the head and its whole body are here, so that the
        # request (body included) is complete when process_request records it.
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > _MAX_HEAD:  # let websockets produce its own error response
                self._release(bytes(self._head))
            return
        head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        match = _CONTENT_LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        if not 0 < length <= _MAX_BODY:
            self._release(head + rest)
            return
        if len(rest) < length:
            return
        self.request_body = rest[:length]
        self._release(_CONTENT_LENGTH.sub(b"Content-Length: 0\r\n", head) + rest[length:])

    def _release(self, data: bytes) -> None:
        self._head_done = True
        self._head = bytearray()
        super().data_received(data)


def json_response(status: int, payload: dict[str, Any]) -> Response:
    body = json.dumps(payload).encode()
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", "application/json"),
        ]
    )
    return Response(status, HTTPStatus(status).phrase, headers, body)


def _headers_dict(headers: Headers) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.raw_items():
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


def record_request(
    state: ServerState, connection: ServerConnection, request: Request
) -> RecordedRequest:
    target = urlsplit(request.path)
    headers = _headers_dict(request.headers)
    record = RecordedRequest(
        method=request.method,
        path=target.path,
        query=parse_qs(target.query, keep_blank_values=True),
        headers=headers,
        raw_target=request.path,
        is_websocket=headers.get("upgrade", "").lower() == "websocket",
        body=getattr(connection, "request_body", b""),
    )
    state.recorder.add_request(record)
    if isinstance(connection, BodyTolerantConnection):
        connection.recorded_request = record
    return record


def process_request(
    state: ServerState, connection: ServerConnection, request: Request
) -> Response | None:
    record = record_request(state, connection, request)
    if state.outage is not None:
        record.refused = state.outage
        if state.outage == "reset":
            _reset(connection)
        return json_response(503, {"error": "Service Unavailable"})
    if record.path in (V3_WS_PATH, V2_WS_PATH):
        return None
    if record.path == V2_TOKEN_PATH:
        return json_response(401, {"error": "Not authorized"})
    if record.path == V3_TOKEN_PATH:
        return _mint_token(state, record)
    return json_response(404, {"error": f"Not found: {record.path}"})


def _reset(connection: ServerConnection) -> None:
    """Abort with RST: SO_LINGER 0 makes close() reset instead of a FIN."""
    sock = connection.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.transport.abort()


def _int_param(record: RecordedRequest, name: str) -> int | None | str:
    """The integer value, None when absent, or an error text."""
    values = record.query.get(name)
    if not values:
        return None
    try:
        return int(values[-1])
    except ValueError:
        return f"{name} must be an integer"


def _mint_token(state: ServerState, record: RecordedRequest) -> Response:
    config = state.config
    if record.method != "GET":
        return json_response(405, {"error": f"Method {record.method} not allowed"})
    if record.headers.get("authorization", "").strip() not in config.api_keys:
        return json_response(401, {"error": "Invalid API key"})
    expires = _int_param(record, "expires_in_seconds")
    if expires is None:
        return json_response(400, {"error": "expires_in_seconds is required"})
    if isinstance(expires, str):
        return json_response(400, {"error": expires})
    if not TOKEN_MIN_EXPIRES_IN <= expires <= config.token_max_expires_in:
        return json_response(
            400,
            {
                "error": f"expires_in_seconds must be between {TOKEN_MIN_EXPIRES_IN} and "
                f"{config.token_max_expires_in}"
            },
        )
    max_session = _int_param(record, "max_session_duration_seconds")
    if isinstance(max_session, str):
        return json_response(400, {"error": max_session})
    if max_session is not None and not SESSION_MIN_SECONDS <= max_session <= SESSION_MAX_SECONDS:
        return json_response(
            400,
            {
                "error": f"max_session_duration_seconds must be between {SESSION_MIN_SECONDS} "
                f"and {SESSION_MAX_SECONDS}"
            },
        )
    token = state.tokens.issue(expires, max_session)
    return json_response(200, {"token": token, "expires_in_seconds": expires})
