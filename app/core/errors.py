"""One exception tree for the whole app, and the tables that map the service's answers to it.

Every error that reaches a person is an instance of :class:`LiveTranscriberError`. It carries

* ``message`` — one plain sentence saying what happened,
* ``remedy`` — what the person can do about it ("" when there is nothing to do),
* ``retryable`` — whether trying again (a new session, a reconnect) can help,
* ``code`` — the WebSocket close code or HTTP status it came from, when there is one,
* ``detail`` — the service's own words (already redacted), for the tooltip and the log.

``str(error)`` is the message followed by the remedy, ready for a status bar.

The tree::

    LiveTranscriberError
    ├── ProtocolError             the service sent something that breaks the wire protocol
    ├── IllegalTransitionError    we misused the session state machine (a bug in the app)
    ├── ServiceError              the streaming service refused or ended the session
    │   ├── AuthError               key or token rejected (1008, 4001, HTTP 401/403)
    │   ├── AccountError            no credit, free tier, account disabled (4002, 4003)
    │   ├── RateLimitError          too many sessions or streams (3009, 4102, HTTP 429)
    │   ├── SessionExpiredError     maximum session length reached (3008, 4008)
    │   ├── AudioRejectedError      the audio stream was refused (3007, 4000, 4029, 4032-4034)
    │   ├── ClientMessageError      a message the app sent was refused (3006, 4100, 4101, 4104)
    │   ├── SessionLostError        taken over, closed or lost (4004, 4010, 4030, 4031, 4103)
    │   ├── ServerError             the service failed on its side (3005, 1011, 1013, HTTP 5xx)
    │   └── TranscriptionTimeoutError  a file's transcript did not finish in time (pre-recorded)
    ├── ConnectionFailedError     the service could not be reached, or the connection dropped
    ├── AudioError                the microphone failed (busy, unplugged, unsupported format)
    ├── OfflineModelError         the offline speech model is missing, damaged or failed to run
    ├── SecretStoreError          the OS keyring failed or is missing
    └── ExportError               a transcript could not be written

Secrets: error texts are built from fixed sentences plus the service's reason string. The
service never echoes the key, but to be safe every reason passes through :func:`redact` with the
secrets the caller knows before it is stored.

Sources for the tables are in ``shared/PROTOCOL.md`` §5 (close codes) and §1.3 (HTTP statuses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[redacted]"


MIN_SECRET_FRAGMENT = 8


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every non-empty secret replaced by ``[redacted]``, and also every
    start or end of one that is ``MIN_SECRET_FRAGMENT`` characters or longer: a log line or a
    service message cut short (websockets shortens long frames in its debug log) would
    otherwise still show part of the key."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        for length in range(len(secret) - 1, MIN_SECRET_FRAGMENT - 1, -1):
            for fragment in (secret[:length], secret[-length:]):
                if fragment in text:
                    text = text.replace(fragment, REDACTED)
    return text


class LiveTranscriberError(Exception):
    """Base of every error the app reports to a person."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        remedy: str = "",
        retryable: bool | None = None,
        code: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.retryable = self.default_retryable if retryable is None else retryable
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message} {self.remedy}".strip()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ProtocolError(LiveTranscriberError):
    """The peer sent something that is not valid protocol. The text never quotes the payload."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"The streaming service sent a message the app does not understand ({problem}).",
            remedy="Try again; if it keeps happening, report it with the app's log.",
            retryable=True,
            detail=problem,
        )


class IllegalTransitionError(LiveTranscriberError):
    """A state machine was asked for a transition its table does not allow: a bug in the app."""


class ServiceError(LiveTranscriberError):
    """The streaming service refused or ended the session."""


class AuthError(ServiceError):
    """The API key or temporary token was rejected."""


class AccountError(ServiceError):
    """The account cannot stream: no credit, free tier, or disabled."""


class RateLimitError(ServiceError):
    """Too many sessions or requests for this account right now."""

    default_retryable = True


class SessionExpiredError(ServiceError):
    """The session reached its maximum duration."""

    default_retryable = True


class AudioRejectedError(ServiceError):
    """The service rejected the audio the app sent (format, chunk size or pace)."""


class ClientMessageError(ServiceError):
    """The service rejected a control message the app sent: a bug in the app."""


class SessionLostError(ServiceError):
    """The session ended on the service's side: idle, taken over, or no longer known."""

    default_retryable = True


class ServerError(ServiceError):
    """The service failed on its side."""

    default_retryable = True


class TranscriptionTimeoutError(ServiceError):
    """A file sent to the pre-recorded API was still not transcribed when the app gave up."""

    default_retryable = True


class ConnectionFailedError(LiveTranscriberError):
    """The service could not be reached, or the connection dropped without a close frame."""

    default_retryable = True


class SlowLinkError(ConnectionFailedError):
    """The connection works but carries audio slower than it is spoken: in Automatic mode the
    offline engine takes over at once instead of the words coming later and later."""


class AudioError(LiveTranscriberError):
    """The microphone could not be opened or stopped delivering audio."""


class OfflineModelError(LiveTranscriberError):
    """The offline speech model is missing, damaged or failed to run."""


class SecretStoreError(LiveTranscriberError):
    """The OS keyring failed or does not exist."""


class ExportError(LiveTranscriberError):
    """A transcript file could not be written."""


# --- the service's answers -------------------------------------------------------------------

_FIX_KEY = "Open Settings → API key and enter a valid AssemblyAI key."
_FIX_ACCOUNT = "Add credit or a payment method in your AssemblyAI dashboard, or use Offline."
_FIX_WAIT = "Wait a minute and start again."
_FIX_AGAIN = "Start recording again."
_FIX_BUG = "This is a bug in Live Transcriber; please report it with the app's log."


@dataclass(frozen=True)
class _Answer:
    kind: type[ServiceError]
    message: str
    remedy: str
    retryable: bool


_CLOSE_CODES: dict[int, _Answer] = {
    # v3 codes as documented by AssemblyAI (PROTOCOL.md §5.1).
    1008: _Answer(AuthError, "AssemblyAI rejected the API key.", _FIX_KEY, False),
    1001: _Answer(ServerError, "AssemblyAI's server went away (close 1001).", _FIX_AGAIN, True),
    1011: _Answer(ServerError, "AssemblyAI had an internal error.", _FIX_AGAIN, True),
    1012: _Answer(ServerError, "AssemblyAI is restarting its service (close 1012).", _FIX_AGAIN,
                  True),
    1013: _Answer(ServerError, "AssemblyAI is temporarily overloaded.", _FIX_WAIT, True),
    3005: _Answer(ServerError, "AssemblyAI cancelled the session after an error on its side.",
                  _FIX_AGAIN, True),
    3006: _Answer(ClientMessageError, "AssemblyAI rejected a message from the app.", _FIX_BUG,
                  False),
    3007: _Answer(AudioRejectedError,
                  "AssemblyAI rejected the audio stream (chunk length or sending pace).",
                  _FIX_AGAIN, True),
    3008: _Answer(SessionExpiredError, "The session reached its maximum length.",
                  "Start a new recording to continue.", True),
    3009: _Answer(RateLimitError, "Too many sessions were started on this account.", _FIX_WAIT,
                  True),
    # The SDKs' inherited table (v2 server codes; PROTOCOL.md §5.2).
    4000: _Answer(AudioRejectedError, "AssemblyAI rejected the audio sample rate.", _FIX_BUG,
                  False),
    4001: _Answer(AuthError, "AssemblyAI did not authorise the connection (Not Authorized).",
                  _FIX_KEY, False),
    4002: _Answer(AccountError, "Your AssemblyAI account has insufficient funds.", _FIX_ACCOUNT,
                  False),
    4003: _Answer(AccountError, "Streaming needs a paid AssemblyAI account (free tier).",
                  _FIX_ACCOUNT, False),
    4004: _Answer(SessionLostError, "AssemblyAI no longer knows this session.", _FIX_AGAIN, True),
    4008: _Answer(SessionExpiredError, "The session expired.", "Start a new recording to continue.",
                  True),
    4010: _Answer(SessionLostError, "The session was already closed.", _FIX_AGAIN, True),
    4029: _Answer(AudioRejectedError, "The app sent audio faster than real time.", _FIX_AGAIN,
                  True),
    4030: _Answer(SessionLostError, "Another connection took over this session.", _FIX_AGAIN,
                  False),
    4031: _Answer(SessionLostError, "The session was idle for too long.", _FIX_AGAIN, True),
    4032: _Answer(AudioRejectedError, "The audio chunks were too short.", _FIX_BUG, False),
    4033: _Answer(AudioRejectedError, "The audio chunks were too long.", _FIX_BUG, False),
    4034: _Answer(AudioRejectedError, "The audio was too small to transcode.", _FIX_BUG, False),
    4100: _Answer(ClientMessageError, "AssemblyAI received invalid JSON from the app.", _FIX_BUG,
                  False),
    4101: _Answer(ClientMessageError, "AssemblyAI received a malformed message from the app.",
                  _FIX_BUG, False),
    4102: _Answer(RateLimitError, "This account has too many streams open.", _FIX_WAIT, True),
    4103: _Answer(SessionLostError, "The session was reconnected elsewhere.", _FIX_AGAIN, False),
    4104: _Answer(ClientMessageError, "AssemblyAI could not read the key terms.",
                  "Check the key terms in Settings.", False),
}

# The 2025 service closed with 3005 (and 1008) for everything; its reason text tells the
# cases apart. Matched case-insensitively against the start of the reason (PROTOCOL.md §5.1).
_REASON_PREFIXES: tuple[tuple[str, int], ...] = (
    ("unauthorized connection: too many concurrent sessions", 3009),
    ("session expired", 3008),
    ("input duration", 3007),
    ("audio transmission rate exceeded", 3007),
    ("invalid message", 3006),
    ("invalid json", 3006),
)
_ACCOUNT_WORDS = ("insufficient", "balance", "funds", "disabled", "suspended", "credit")

_NETWORK_CLOSES = frozenset({1006, 1014})
# Closes that say the peer broke the WebSocket protocol (1009: a frame over the size limit the
# client accepts): not the person's network, and a new session usually works.
_PROTOCOL_CLOSES = {
    1002: "a malformed WebSocket frame",
    1007: "text that is not valid UTF-8",
    1009: "a message larger than the app accepts",
}


def _classify(code: int, reason: str) -> int:
    lowered = reason.lower()
    if code in (1008, 3005):
        for prefix, refined in _REASON_PREFIXES:
            if lowered.startswith(prefix) or f": {prefix}" in lowered:
                return refined
    return code


def error_for_close(
    code: int, reason: str = "", *, secrets: Iterable[str] = ()
) -> ServiceError | ConnectionFailedError | ProtocolError | None:
    """Map a WebSocket close (code and reason) to a typed error; ``None`` for a clean close.

    ``reason`` may be the close frame's reason or the text of an ``Error`` frame that came
    just before it. Codes outside the tables still give a typed error that quotes the code.
    """
    if code == 1000:
        return None
    detail = redact(reason, secrets)
    if code in _PROTOCOL_CLOSES:
        error = ProtocolError(f"close {code}: {_PROTOCOL_CLOSES[code]}")
        error.code = code
        return error
    if code in _NETWORK_CLOSES:
        return ConnectionFailedError(
            "The connection to AssemblyAI dropped.",
            remedy="Check your internet connection and start again.",
            code=code,
            detail=detail,
        )
    refined = _classify(code, detail)
    if code == 1008 and refined == 1008 and any(w in detail.lower() for w in _ACCOUNT_WORDS):
        return AccountError(
            "AssemblyAI refused the session because of the account.",
            remedy=_FIX_ACCOUNT,
            code=code,
            detail=detail,
        )
    answer = _CLOSE_CODES.get(refined)
    if answer is None:
        retryable = not 4000 <= code < 5000
        return ServiceError(
            f"AssemblyAI closed the session unexpectedly (code {code}).",
            remedy=_FIX_AGAIN if retryable else _FIX_BUG,
            retryable=retryable,
            code=code,
            detail=detail,
        )
    message = answer.message
    if detail and answer.kind is AuthError:
        message = f"AssemblyAI rejected the API key ({detail})."
    return answer.kind(message, remedy=answer.remedy, retryable=answer.retryable, code=code,
                       detail=detail)


def error_for_http_status(
    status: int, service_text: str = "", *, secrets: Iterable[str] = ()
) -> LiveTranscriberError:
    """Map an HTTP status from the token endpoint or a refused upgrade to a typed error."""
    detail = redact(service_text, secrets)
    suffix = f" ({detail})" if detail else ""
    if status in (401, 403):
        return AuthError(f"AssemblyAI rejected the API key{suffix}.", remedy=_FIX_KEY,
                         code=status, detail=detail)
    if status == 402:
        return AccountError(f"AssemblyAI refused the request because of the account{suffix}.",
                            remedy=_FIX_ACCOUNT, code=status, detail=detail)
    if status == 429:
        return RateLimitError(f"AssemblyAI is rate-limiting this account{suffix}.",
                              remedy=_FIX_WAIT, code=status, detail=detail)
    if 500 <= status < 600:
        return ServerError(f"AssemblyAI had an error on its side (HTTP {status}).",
                           remedy=_FIX_WAIT, code=status, detail=detail)
    if status == 400:
        return ClientMessageError(f"AssemblyAI rejected the app's request{suffix}.",
                                  remedy=_FIX_BUG, code=status, detail=detail)
    return ConnectionFailedError(
        f"AssemblyAI answered with an unexpected HTTP status {status}.",
        remedy="Check the service address and your network, then try again.",
        code=status,
        detail=detail,
    )
