"""Credentials: API keys and single-use temporary tokens (PROTOCOL.md §1.2–§1.4, §9.1, §10).

The only credential inputs are the `Authorization` header (raw API key, no `Bearer`; or a
temporary token, which the Python SDK sends there) and the `token` query parameter.
`auth_key=` / `api_key=` in the URL are *not* credentials: such a request carries none, which
is exactly why the original app failed (§1.4).

Token expiry uses `time.monotonic()`: `expires_in_seconds` is the redemption window (the
WebSocket must be opened within it) and `max_session_duration_seconds` caps the session.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .recording import AuthMethod

# Reason suffixes after "Unauthorized Connection: ".  Only "Missing Authorization header" is
# documented (PROTOCOL.md §5.1); the others are the emulator's wording (UNCERTAIN).
MISSING = "Missing Authorization header"
INVALID_KEY = "Invalid API key"
INVALID_TOKEN = "Invalid token"
TOKEN_EXPIRED = "Token expired"
TOKEN_USED = "Token already used"


@dataclass
class _IssuedToken:
    redeem_deadline: float  # time.monotonic()
    max_session_seconds: float | None
    used: bool = False


@dataclass(frozen=True)
class AuthResult:
    method: AuthMethod | None
    failure: str | None = None  # reason suffix when method is None
    max_session_seconds: float | None = None  # the token's cap, if any


class TokenStore:
    """Thread-safe: tests mint and expire tokens from their own thread."""

    def __init__(self) -> None:
        self._tokens: dict[str, _IssuedToken] = {}
        self._lock = threading.Lock()

    def issue(self, expires_in_seconds: float, max_session_seconds: float | None = None) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _IssuedToken(time.monotonic() + expires_in_seconds,
                                               max_session_seconds)
        return token

    def expire(self, token: str) -> None:
        with self._lock:
            if token not in self._tokens:
                raise KeyError(f"unknown token {token!r}")
            self._tokens[token].redeem_deadline = float("-inf")

    def redeem(self, token: str) -> tuple[bool, str | None, float | None]:
        """(ok, failure reason, session cap).  A successful redemption uses the token up."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return False, INVALID_TOKEN, None
            if entry.used:
                return False, TOKEN_USED, None
            if time.monotonic() > entry.redeem_deadline:
                return False, TOKEN_EXPIRED, None
            entry.used = True
            return True, None, entry.max_session_seconds


def authenticate(
    headers: Mapping[str, str],
    query: Mapping[str, list[str]],
    api_keys: frozenset[str],
    tokens: TokenStore,
) -> AuthResult:
    """First valid credential wins: header key, header token, then `?token=`.

    When both are present and both fail, the header's failure is reported.  A `Bearer ` or
    `token ` prefix is not stripped (UNCERTAIN whether the service tolerates one; refusing
    it catches client bugs).
    """
    header = headers.get("authorization", "").strip()
    query_token = (query.get("token") or [""])[-1]
    failure: str | None = None
    if header:
        if header in api_keys:
            return AuthResult("header-key")
        ok, reason, cap = tokens.redeem(header)
        if ok:
            return AuthResult("header-token", max_session_seconds=cap)
        failure = INVALID_KEY if reason == INVALID_TOKEN else reason
    if query_token:
        ok, reason, cap = tokens.redeem(query_token)
        if ok:
            return AuthResult("query-token", max_session_seconds=cap)
        failure = failure or reason
    return AuthResult(None, failure=failure or MISSING)
