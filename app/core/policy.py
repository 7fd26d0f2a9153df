"""Decisions the window and the headless mode share, as pure functions of what is known.

* **Which engine runs** (:func:`plan_engine`): the person's choice (Automatic, Cloud,
  Offline), whether a key is configured and whether the offline engine is installed.
* **Which key is used** (:func:`key_in_use`): ``ASSEMBLYAI_API_KEY`` wins over the keyring's;
  blanks count as none.
* **What the auth-status indicator says after each event** (:func:`status_before_start`,
  :func:`status_after_start`, :func:`status_after_error`) and **what an error says to the
  person** (:func:`error_text`), worded for where they read it (:class:`Surface`).

The controller and ``app/headless.py`` call these and keep no copy of the rules.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from app.core import auth
from app.core.auth import AuthState, AuthStatus
from app.core.config import ENV_API_KEY, EngineChoice
from app.core.errors import (
    ConnectionFailedError,
    LiveTranscriberError,
    SecretStoreError,
    SessionLostError,
)
from app.core.ports import KeyCheck, KeyStatus


class Surface(enum.Enum):
    """Where the person reads a sentence: remedies name what they can act on there."""

    WINDOW = "window"
    HEADLESS = "headless"


# --- which engine runs -------------------------------------------------------------------


@dataclass(frozen=True)
class EnginePlan:
    """What the next recording uses: CLOUD or OFFLINE, or ``None`` with the reason why it
    cannot start (a sentence with the fix)."""

    engine: EngineChoice | None
    refusal: str = ""
    fallback: bool = False  # Automatic in the cloud: the offline engine takes over if it fails


def plan_engine(choice: EngineChoice, has_key: bool, surface: Surface) -> EnginePlan:
    """Automatic runs in the cloud with a key and offline without (the offline engine is
    part of every build); Cloud needs a key."""
    if choice is EngineChoice.AUTO:
        return EnginePlan(EngineChoice.CLOUD, fallback=True) if has_key else EnginePlan(
            EngineChoice.OFFLINE)
    if choice is EngineChoice.CLOUD and not has_key:
        return EnginePlan(None, _NO_KEY[surface])
    return EnginePlan(choice)


_NO_KEY = {
    Surface.WINDOW: "No AssemblyAI API key is configured. Open Settings to add one, or "
                    "choose the Offline engine.",
    Surface.HEADLESS: "No AssemblyAI API key is configured. Set ASSEMBLYAI_API_KEY, save one "
                      "in the app's Settings, or use --engine offline.",
}


# --- which key is used -------------------------------------------------------------------


def env_key(env: Mapping[str, str]) -> str | None:
    """``ASSEMBLYAI_API_KEY`` when set to something other than blanks."""
    return env.get(ENV_API_KEY, "").strip() or None


def key_in_use(from_env: str | None, stored: str | None) -> str | None:
    """The environment's key wins over the keyring's (same rule as the official SDK)."""
    for key in (from_env, stored):
        if key is not None and key.strip():
            return key.strip()
    return None


# --- what the indicator says -------------------------------------------------------------


def status_before_start(engine: EngineChoice, has_key: bool, *,
                        session_only: bool = False) -> AuthStatus | None:
    """The indicator while idle, or ``None`` when the key must be checked first (the caller
    shows :func:`auth.checking` and then :func:`auth.from_check`)."""
    if engine is EngineChoice.OFFLINE:
        return auth.offline()
    if not has_key:
        return auth.no_key(session_only=session_only)
    return None


def status_after_start(engine: EngineChoice, current: AuthStatus, *,
                       session_only: bool = False) -> AuthStatus:
    """A cloud session began: the service accepted the key, whatever was shown before."""
    if engine is EngineChoice.CLOUD and current.state is not AuthState.VALID:
        return auth.from_check(KeyCheck(KeyStatus.VALID), session_only=session_only)
    return current


def status_after_fallback() -> AuthStatus:
    """Automatic switched this recording to the offline engine: nothing leaves the computer."""
    return AuthStatus(AuthState.OFFLINE, "Offline fallback",
                      "AssemblyAI could not be reached; this recording continues on this "
                      "computer.", "The next recording tries the cloud again.")


def status_after_error(error: LiveTranscriberError, engine: EngineChoice,
                       current: AuthStatus, *, session_only: bool = False) -> AuthStatus:
    """The indicator after an error. While transcribing offline the key's state is beside
    the point, except for a keyring failure; errors that say nothing about the key (a
    rejected audio chunk) leave it as it was."""
    if engine is EngineChoice.OFFLINE and not isinstance(error, SecretStoreError):
        return current
    return auth.from_error(error, session_only=session_only) or current


def error_text(error: LiveTranscriberError, engine: EngineChoice, surface: Surface) -> str:
    """The sentence shown for ``error``: its message and remedy, plus the way out that the
    mode offers when the cloud cannot be reached."""
    text = str(error)
    cloud_gone = isinstance(error, ConnectionFailedError | SessionLostError)
    if cloud_gone and engine is EngineChoice.CLOUD:
        text += (" Or choose the Offline engine to keep transcribing without a network."
                 if surface is Surface.WINDOW else
                 " Or add --engine offline to transcribe on this computer.")
    return text
