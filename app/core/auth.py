"""What the auth-status indicator says: one state, a short text, the cause and the fix.

Pure mapping from what the app learns (no key stored, a key check's result, the error a live
session ended with, the engine in use) to an :class:`AuthStatus`. The widget only renders it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.core.errors import (
    AccountError,
    AuthError,
    ConnectionFailedError,
    LiveTranscriberError,
    RateLimitError,
    SecretStoreError,
    ServerError,
)
from app.core.ports import KeyCheck, KeyStatus


class AuthState(enum.Enum):
    NO_KEY = "no-key"
    CHECKING = "checking"
    VALID = "valid"
    REJECTED = "rejected"
    NO_CREDIT = "no-credit"
    RATE_LIMITED = "rate-limited"
    UNREACHABLE = "unreachable"
    OFFLINE = "offline"
    KEYRING_ERROR = "keyring-error"


@dataclass(frozen=True)
class AuthStatus:
    state: AuthState
    text: str  # short, next to the icon: "Key valid"
    cause: str = ""  # tooltip, first line: what happened
    remedy: str = ""  # tooltip, second line: what to do
    session_only: bool = False  # the key is not in a keyring (no backend): said in the tooltip

    @property
    def tooltip(self) -> str:
        lines = [self.cause, self.remedy]
        if self.session_only:
            lines.append("No system keyring was found: the key is kept for this session only.")
        return "\n".join(line for line in lines if line)

    @property
    def spoken(self) -> str:
        """What a screen reader announces: the state and its cause in one sentence."""
        return f"{self.text}. {self.cause}".strip().rstrip(".") + "."


_KEY_FIX = "Open Settings → API key and enter a valid AssemblyAI key."


def no_key(*, session_only: bool = False) -> AuthStatus:
    return AuthStatus(AuthState.NO_KEY, "No API key",
                      "No AssemblyAI API key is configured.",
                      "Open Settings to add one, or transcribe with the Offline engine.",
                      session_only)


def checking(*, session_only: bool = False) -> AuthStatus:
    return AuthStatus(AuthState.CHECKING, "Checking key…",
                      "Asking AssemblyAI whether the API key is valid.", "",
                      session_only)


def offline() -> AuthStatus:
    return AuthStatus(AuthState.OFFLINE, "Offline — no key needed",
                      "Speech is recognised on this computer; nothing is sent anywhere.", "")


def from_check(check: KeyCheck, *, session_only: bool = False) -> AuthStatus:
    if check.status is KeyStatus.VALID:
        return AuthStatus(AuthState.VALID, "Key valid", "AssemblyAI accepted the API key.", "",
                          session_only)
    if check.error is not None:
        status = from_error(check.error, session_only=session_only)
        if status is not None:
            return status
    state = {
        KeyStatus.REJECTED: AuthState.REJECTED,
        KeyStatus.NO_CREDIT: AuthState.NO_CREDIT,
        KeyStatus.RATE_LIMITED: AuthState.RATE_LIMITED,
        KeyStatus.UNREACHABLE: AuthState.UNREACHABLE,
    }[check.status]
    cause = check.error.message if check.error is not None else ""
    return AuthStatus(state, _SHORT[state], cause, "", session_only)


_SHORT = {
    AuthState.REJECTED: "Key rejected",
    AuthState.NO_CREDIT: "No credit",
    AuthState.RATE_LIMITED: "Rate limited",
    AuthState.UNREACHABLE: "Service unreachable",
    AuthState.KEYRING_ERROR: "Keyring error",
}


_DEFAULT_REMEDY = {
    AuthState.REJECTED: _KEY_FIX,
    AuthState.NO_CREDIT: "Add credit in your AssemblyAI dashboard, or use the Offline engine.",
    AuthState.RATE_LIMITED: "Wait a minute and try again.",
    AuthState.UNREACHABLE: "Check your internet connection, or use the Offline engine.",
    AuthState.KEYRING_ERROR: "Unlock your system keyring and try again.",
}


def from_error(error: LiveTranscriberError, *, session_only: bool = False) -> AuthStatus | None:
    """The indicator's state after an error, or ``None`` when the error says nothing about
    the key (e.g. a rejected audio chunk): the indicator then keeps its state."""
    if isinstance(error, AuthError):
        state = AuthState.REJECTED
    elif isinstance(error, AccountError):
        state = AuthState.NO_CREDIT
    elif isinstance(error, RateLimitError):
        state = AuthState.RATE_LIMITED
    elif isinstance(error, ConnectionFailedError | ServerError):
        state = AuthState.UNREACHABLE
    elif isinstance(error, SecretStoreError):
        state = AuthState.KEYRING_ERROR
    else:
        return None
    remedy = error.remedy or _DEFAULT_REMEDY[state]
    return AuthStatus(state, _SHORT[state], error.message, remedy, session_only)
