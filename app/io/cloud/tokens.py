"""Temporary streaming tokens and API key validation over HTTPS (PROTOCOL.md §1.3, §7.1).

``GET /v3/token?expires_in_seconds=N`` with the raw key in the ``Authorization`` header mints a
single-use token. Validating a key is the same request: 2xx → valid, 401/403 → rejected,
402 → no credit, 429 → rate limited, anything else or no answer → unreachable.

The blocking ``urllib`` call runs in a worker thread (``asyncio.to_thread``); nothing here
blocks the event loop. The key only ever travels in the header; texts built from the service's
answer are redacted before they are stored in an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Final
from urllib.parse import urlencode

from app import __version__
from app.core.config import key_format_problem
from app.core.errors import (
    AccountError,
    AuthError,
    ConnectionFailedError,
    LiveTranscriberError,
    ProtocolError,
    RateLimitError,
    error_for_http_status,
)
from app.core.ports import KeyCheck, KeyStatus
from app.io.cloud.reach import host_of, unreachable

log = logging.getLogger(__name__)

USER_AGENT: Final = f"LiveTranscriber/{__version__}"
MAX_BODY_BYTES: Final = 64 * 1024


def service_error_text(body: bytes) -> str:
    """The ``error`` field of a JSON error body, or "" (never the raw body: it may be HTML)."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    return error[:200] if isinstance(error, str) else ""


def _request_token_sync(token_url: str, api_key: str, query: str, timeout: float) -> bytes:
    request = urllib.request.Request(
        f"{token_url}?{query}",
        headers={"Authorization": api_key, "User-Agent": USER_AGENT, "Accept": "application/json"},
        method="GET",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(MAX_BODY_BYTES)
        return body


def malformed_key(api_key: str) -> None:
    """Raise :class:`AuthError` for a key that cannot be one, before it goes anywhere."""
    problem = key_format_problem(api_key)
    if problem is not None:
        raise AuthError(problem, remedy="Copy the key again from your AssemblyAI dashboard "
                        "and paste it in Settings → API key.")


async def fetch_temporary_token(
    token_url: str,
    api_key: str,
    *,
    expires_in_seconds: int = 60,
    max_session_duration_seconds: int | None = None,
    socket_timeout: float = 10.0,
) -> str:
    """Mint a temporary streaming token. Raises a typed :class:`LiveTranscriberError`."""
    if not token_url.startswith(("https://", "http://")):
        raise ConnectionFailedError("The token endpoint address is not an http(s) URL.")
    malformed_key(api_key)
    params: dict[str, int] = {"expires_in_seconds": expires_in_seconds}
    if max_session_duration_seconds is not None:
        params["max_session_duration_seconds"] = max_session_duration_seconds
    secrets = (api_key,)
    try:
        body = await asyncio.to_thread(
            _request_token_sync, token_url, api_key, urlencode(params), socket_timeout
        )
    except urllib.error.HTTPError as exc:
        text = service_error_text(exc.read(MAX_BODY_BYTES) if exc.fp is not None else b"")
        exc.close()
        raise error_for_http_status(exc.code, text, secrets=secrets) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        log.info("token endpoint unreachable: %s", type(exc).__name__)
        raise unreachable(exc, host_of(token_url), secrets) from None
    try:
        payload = json.loads(body.decode("utf-8"))
        token = payload["token"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise ProtocolError("a token answer without a token") from None
    if not isinstance(token, str) or not token:
        raise ProtocolError("a token answer without a token")
    return token


async def validate_key(
    token_url: str, api_key: str, *, socket_timeout: float = 10.0
) -> KeyCheck:
    """Check a key by minting a token that expires at once. Never raises for service answers."""
    try:
        await fetch_temporary_token(token_url, api_key.strip(), expires_in_seconds=1,
                                    socket_timeout=socket_timeout)
    except AuthError as exc:
        return KeyCheck(KeyStatus.REJECTED, exc)
    except AccountError as exc:
        return KeyCheck(KeyStatus.NO_CREDIT, exc)
    except RateLimitError as exc:
        return KeyCheck(KeyStatus.RATE_LIMITED, exc)
    except LiveTranscriberError as exc:
        return KeyCheck(KeyStatus.UNREACHABLE, exc)
    return KeyCheck(KeyStatus.VALID)
