"""Decisions the window and the headless mode share, as pure functions of what is known.

* **Which engine runs** (:func:`plan_engine`): the person's choice (Automatic, Cloud,
  Offline), whether a key is configured and whether the offline engine is installed.
* **Which key is used** (:func:`key_in_use`): ``ASSEMBLYAI_API_KEY`` wins over the keyring's;
  blanks count as none.
* **What the auth-status indicator says after each event** (:func:`status_before_start`,
  :func:`status_after_start`, :func:`status_after_error`) and **what an error says to the
  person** (:func:`error_text`), worded for where they read it (:class:`Surface`).
* **What the engine indicator says** (:func:`engine_status`): where the audio goes, and the
  key's state when that is the cloud.
* **What the window's message bar shows** (:func:`error_message`, :func:`notice_message`,
  :func:`recovery_message`): the sentence, its severity and the buttons that act on it.

The controller and ``app/headless.py`` call these and keep no copy of the rules.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.core import auth
from app.core.auth import AuthState, AuthStatus
from app.core.config import ENV_API_KEY, EngineChoice, Region
from app.core.errors import (
    AccountError,
    AudioError,
    AuthError,
    ConnectionFailedError,
    ExportError,
    LiveTranscriberError,
    OfflineModelError,
    RateLimitError,
    SecretStoreError,
    ServerError,
    SessionExpiredError,
    SessionLostError,
    SlowLinkError,
)
from app.core.journal import UnfinishedRecording
from app.core.ports import KeyCheck, KeyStatus
from app.core.recording import NoticeKind, RecordingNotice


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
                      "AssemblyAI could not be reached, or the connection was too slow to "
                      "keep up; this recording continues on this computer.",
                      "The next recording tries the cloud again.")


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


# --- where the audio goes ----------------------------------------------------------------


class Link(enum.Enum):
    """How the recording's engine session stands, from the recorder's notices."""

    NORMAL = "normal"
    RECONNECTING = "reconnecting"  # the cloud session ended; a new one is being opened
    FALLBACK = "fallback"  # Automatic moved this recording to the offline engine


class Tone(enum.Enum):
    """How the engine indicator's dot reads: the text always says the same in words."""

    GOOD = "good"  # the cloud with a key it accepted
    LOCAL = "local"  # nothing leaves the computer
    PENDING = "pending"  # checking, reconnecting: not decided yet
    WARNING = "warning"  # may work again by itself (rate limit, unreachable)
    PROBLEM = "problem"  # needs the person (no key, key rejected, no credit)


@dataclass(frozen=True)
class EngineStatus:
    """One sentence naming the engine in use and its state, plus what that means for the
    audio (the tooltip)."""

    text: str
    tone: Tone
    detail: str


_REGION_NAMES = {Region.US: "US", Region.EU: "EU"}
_KEY_PART: dict[AuthState, tuple[str, Tone]] = {
    AuthState.VALID: ("key valid", Tone.GOOD),
    AuthState.CHECKING: ("checking key…", Tone.PENDING),
    AuthState.NO_KEY: ("no API key", Tone.PROBLEM),
    AuthState.REJECTED: ("key rejected", Tone.PROBLEM),
    AuthState.NO_CREDIT: ("no credit", Tone.PROBLEM),
    AuthState.RATE_LIMITED: ("rate limited", Tone.WARNING),
    AuthState.UNREACHABLE: ("service unreachable", Tone.WARNING),
    AuthState.KEYRING_ERROR: ("keyring error", Tone.WARNING),
    # The key's state is not known for the cloud yet (it was last shown for Offline).
    AuthState.OFFLINE: ("checking key…", Tone.PENDING),
}
_CLOUD_DETAIL = "Audio is sent to AssemblyAI over an encrypted connection."
_LOCAL_DETAIL = "Audio stays on this computer: nothing is sent over the network."


def engine_status(engine: EngineChoice, region: Region, offline_model: str, key: AuthStatus,
                  link: Link = Link.NORMAL) -> EngineStatus:
    """What the engine indicator says. ``engine`` is what runs (or the next recording uses):
    CLOUD or OFFLINE; the key's state only matters for the cloud."""
    local_name = f"Whisper {offline_model}"
    if link is Link.FALLBACK:
        return EngineStatus("Offline fallback · on this computer", Tone.LOCAL,
                            f"AssemblyAI could not be reached; this recording continues with "
                            f"{local_name}. {_LOCAL_DETAIL}")
    if engine is EngineChoice.OFFLINE:
        return EngineStatus(f"On this computer · {local_name}", Tone.LOCAL, _LOCAL_DETAIL)
    cloud = f"AssemblyAI cloud ({_REGION_NAMES[region]})"
    if link is Link.RECONNECTING:
        return EngineStatus(f"{cloud} · reconnecting…", Tone.PENDING,
                            "The connection dropped; the audio meanwhile is kept and sent once "
                            f"it is back. {_CLOUD_DETAIL}")
    part, tone = _KEY_PART[key.state]
    detail = "\n".join(line for line in (_CLOUD_DETAIL, key.tooltip) if line)
    return EngineStatus(f"{cloud} · {part}", tone, detail)


def link_after(notice: NoticeKind, current: Link) -> Link:
    """The link state after a recorder notice (a loss of audio changes nothing here)."""
    if notice is NoticeKind.RECONNECTING:
        return Link.FALLBACK if current is Link.FALLBACK else Link.RECONNECTING
    if notice is NoticeKind.RECONNECTED:
        return Link.FALLBACK if current is Link.FALLBACK else Link.NORMAL
    if notice is NoticeKind.FALLBACK:
        return Link.FALLBACK
    return current


# --- the message bar ---------------------------------------------------------------------


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Action(enum.Enum):
    """A button beside a message: the label is what the person reads."""

    OPEN_SETTINGS = "Open Settings"
    RETRY = "Retry"
    SWITCH_OFFLINE = "Switch to offline"
    RESTORE = "Restore"
    DISMISS = "Dismiss"


@dataclass(frozen=True)
class Message:
    severity: Severity
    text: str  # full sentences: what happened and what to do
    actions: tuple[Action, ...] = ()


_KEY_ERRORS = (AuthError, AccountError)
_CONNECTION_ERRORS = (ConnectionFailedError, SessionLostError, ServerError, RateLimitError,
                      SessionExpiredError)


def error_message(error: LiveTranscriberError, engine: EngineChoice) -> Message:
    """An error for the window's message bar, with the buttons that act on its remedy."""
    actions: tuple[Action, ...] = ()
    leave_cloud = (Action.SWITCH_OFFLINE,) if engine is EngineChoice.CLOUD else ()
    if isinstance(error, _KEY_ERRORS):
        actions = (Action.OPEN_SETTINGS, *leave_cloud)
    elif isinstance(error, _CONNECTION_ERRORS):
        actions = (Action.RETRY, *leave_cloud)
    elif isinstance(error, OfflineModelError):
        actions = (Action.OPEN_SETTINGS,)
    elif isinstance(error, AudioError):
        actions = (Action.RETRY,)
    severity = Severity.WARNING if isinstance(error, ExportError) else Severity.ERROR
    return Message(severity, error_text(error, engine, Surface.WINDOW), actions)


def settings_key_text(error: LiveTranscriberError) -> str:
    """A key check's failure as the Settings dialog says it: advice to open Settings is
    pointless there, so it becomes what to do in the dialog itself."""
    if "Settings" in error.remedy:
        return f"{error.message} Check the key in your AssemblyAI dashboard and paste it again."
    return str(error)


def refusal_message(plan: EnginePlan) -> Message:
    """A start the plan refused (the cloud without a key)."""
    return Message(Severity.ERROR, plan.refusal, (Action.OPEN_SETTINGS, Action.SWITCH_OFFLINE))


_NOTICE_SEVERITY = {
    NoticeKind.RECONNECTING: Severity.WARNING,
    NoticeKind.RECONNECTED: Severity.INFO,
    NoticeKind.FALLBACK: Severity.WARNING,
    NoticeKind.AUDIO_LOST: Severity.WARNING,
    NoticeKind.BEHIND: Severity.WARNING,
    NoticeKind.CAUGHT_UP: Severity.INFO,
}


def pace_notice(behind_ms: int, gave_up: str) -> RecordingNotice:
    """What the person reads when the offline engine changes pace to keep up."""
    if not gave_up:
        return RecordingNotice(NoticeKind.CAUGHT_UP,
                               "Recognition has caught up with your speech again.")
    return RecordingNotice(NoticeKind.BEHIND,
                           f"Behind by {behind_ms / 1000:.0f} s. {gave_up} Every word is "
                           "still transcribed.")


# A live recording's audio waiting for a cloud session to take it: said once there is this
# much and the link carried less than real time lately (a catch-up after a reconnect carries
# more), unsaid below the other.
UPLINK_BEHIND_MS = 3000
UPLINK_CAUGHT_UP_MS = 1000
UPLINK_SLOW = 0.9  # of real time


def uplink_notice(waiting_ms: int, carried_ms: int, over_ms: int,
                  behind: bool) -> RecordingNotice | None:
    """What to tell the person about a live recording's audio piling up on its way to the
    cloud (a slow uplink): ``waiting_ms`` of audio not yet taken by the session, which took
    ``carried_ms`` of audio in the last ``over_ms``; ``behind``: they have been told it is
    behind. None: nothing new to say."""
    slow = carried_ms < UPLINK_SLOW * over_ms
    if not behind and waiting_ms >= UPLINK_BEHIND_MS and slow:
        return RecordingNotice(
            NoticeKind.BEHIND,
            f"The connection to AssemblyAI is slow: {waiting_ms / 1000:.0f} s of audio is "
            "waiting to be sent. Nothing is lost; the words will come late.")
    if behind and waiting_ms < UPLINK_CAUGHT_UP_MS:
        return RecordingNotice(NoticeKind.CAUGHT_UP,
                               "The connection has caught up: words come as you speak again.")
    return None


def uplink_too_slow(waiting_ms: int, carried_ms: int, over_ms: int, limit_ms: int
                    ) -> SlowLinkError | None:
    """Whether a live cloud recording should stop waiting for its link (Automatic mode only:
    the offline engine can take over): ``limit_ms`` of audio or more waiting to be sent while
    the link carried less than real time lately — the same wait an outage gets before the
    fallback. A catch-up after a reconnect carries more than real time and is left alone."""
    if waiting_ms < limit_ms or carried_ms >= UPLINK_SLOW * over_ms:
        return None
    return SlowLinkError(
        f"The connection to AssemblyAI is too slow to keep up: {waiting_ms / 1000:.0f} s of "
        "audio was waiting to be sent.",
        remedy="Check your connection; in Settings, Cloud waits for the late words instead of "
        "continuing offline.")


def fallback_text(error: LiveTranscriberError) -> str:
    """What the person reads when Automatic mode continues a recording offline."""
    if isinstance(error, SlowLinkError):
        reason = error.message
    else:
        reason = f"The cloud could not be reached ({error.message.rstrip('.')})."
    return (f"{reason} Continuing on this computer with the offline engine; nothing said "
            "meanwhile is lost.")


def audio_lost_text(lost_ms: int, max_held_ms: int) -> str:
    """Audio the recording could not keep for any engine (a link too slow or down for longer
    than the held audio lasts): said when it happens and again at Stop."""
    held = (f"{max_held_ms / 60_000:.0f} min" if max_held_ms >= 60_000
            else f"{max_held_ms / 1000:.0f} s")
    return (f"{lost_ms / 1000:.1f} s of audio were not transcribed: the connection was too "
            f"slow or down for longer than the {held} of audio the app holds.")


def notice_message(notice: RecordingNotice) -> Message:
    return Message(_NOTICE_SEVERITY[notice.kind], notice.text)


def recovery_message(unfinished: Sequence[UnfinishedRecording]) -> Message:
    """The offer to restore the newest recording that did not end cleanly."""
    newest = unfinished[0]
    when = (f"from {newest.started:%d %B %Y at %H:%M}" if newest.started is not None
            else "from an earlier run")
    turns = f"{newest.turn_count} paragraph" + ("" if newest.turn_count == 1 else "s")
    text = (f"The recording {when} did not end cleanly ({turns}, “{newest.first_words}”). "
            "Restore it into the window? Its files stay in the transcripts folder either way.")
    more = len(unfinished) - 1
    if more:
        text += f" {more} more unfinished recording{'' if more == 1 else 's'} will be offered next."
    return Message(Severity.INFO, text, (Action.RESTORE, Action.DISMISS))
