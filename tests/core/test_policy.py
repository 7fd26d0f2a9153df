"""The shared decisions, as tables: engine choice, key precedence, what the indicator says."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.core import auth, policy
from app.core.auth import AuthState
from app.core.config import EngineChoice, Region
from app.core.errors import (
    AudioError,
    AudioRejectedError,
    AuthError,
    ConnectionFailedError,
    ExportError,
    LiveTranscriberError,
    OfflineModelError,
    SecretStoreError,
    SessionLostError,
)
from app.core.journal import UnfinishedRecording
from app.core.policy import Action, Link, Severity, Surface, Tone
from app.core.ports import KeyCheck, KeyStatus
from app.core.recording import NoticeKind, RecordingNotice

AUTO, CLOUD, OFFLINE = EngineChoice.AUTO, EngineChoice.CLOUD, EngineChoice.OFFLINE


@pytest.mark.parametrize(("choice", "has_key", "runs"), [
    (AUTO, True, CLOUD),
    (AUTO, False, OFFLINE),
    (CLOUD, True, CLOUD),
    (CLOUD, False, None),
    (OFFLINE, True, OFFLINE),
    (OFFLINE, False, OFFLINE),
])
@pytest.mark.parametrize("surface", list(Surface))
def test_which_engine_runs(choice: EngineChoice, has_key: bool, runs: EngineChoice | None,
                           surface: Surface) -> None:
    plan = policy.plan_engine(choice, has_key, surface)
    assert plan.engine is runs
    assert (plan.refusal != "") is (runs is None)


def test_a_refused_start_names_the_fix_of_its_surface() -> None:
    window = policy.plan_engine(CLOUD, False, Surface.WINDOW).refusal
    headless = policy.plan_engine(CLOUD, False, Surface.HEADLESS).refusal
    assert "Open Settings" in window and "--engine" not in window
    assert "ASSEMBLYAI_API_KEY" in headless and "--engine offline" in headless


@pytest.mark.parametrize(("env", "stored", "used"), [
    ({"ASSEMBLYAI_API_KEY": " env-key "}, "stored", "env-key"),
    ({"ASSEMBLYAI_API_KEY": "  "}, "stored", "stored"),
    ({}, " stored ", "stored"),
    ({}, "  ", None),
    ({}, None, None),
    ({"ASSEMBLYAI_API_KEY": "env-key"}, None, "env-key"),
])
def test_the_environment_key_wins_over_the_keyring(env: dict[str, str], stored: str | None,
                                                   used: str | None) -> None:
    assert policy.key_in_use(policy.env_key(env), stored) == used


@pytest.mark.parametrize(("engine", "has_key", "state"), [
    (OFFLINE, True, AuthState.OFFLINE),
    (OFFLINE, False, AuthState.OFFLINE),
    (CLOUD, False, AuthState.NO_KEY),
    (CLOUD, True, None),  # the key is checked first
])
def test_indicator_before_start(engine: EngineChoice, has_key: bool,
                                state: AuthState | None) -> None:
    status = policy.status_before_start(engine, has_key)
    assert (status.state if status else None) is state


@pytest.mark.parametrize(("engine", "before", "after"), [
    (CLOUD, AuthState.UNREACHABLE, AuthState.VALID),
    (CLOUD, AuthState.CHECKING, AuthState.VALID),
    (CLOUD, AuthState.VALID, AuthState.VALID),
    (OFFLINE, AuthState.OFFLINE, AuthState.OFFLINE),
])
def test_indicator_after_a_session_began(engine: EngineChoice, before: AuthState,
                                         after: AuthState) -> None:
    current = auth.AuthStatus(before, "x")
    assert policy.status_after_start(engine, current).state is after


_KEY_ERROR = AuthError("AssemblyAI rejected the API key.", remedy="Fix it.")
_NET_ERROR = ConnectionFailedError("The connection to AssemblyAI dropped.")
_CHUNK = AudioRejectedError("An audio chunk was rejected.")
_KEYRING = SecretStoreError("The keyring is locked.")


@pytest.mark.parametrize(("error", "engine", "after"), [
    (_KEY_ERROR, CLOUD, AuthState.REJECTED),
    (_NET_ERROR, CLOUD, AuthState.UNREACHABLE),
    (_CHUNK, CLOUD, AuthState.VALID),  # says nothing about the key: unchanged
    (_KEYRING, CLOUD, AuthState.KEYRING_ERROR),
    (_KEY_ERROR, OFFLINE, AuthState.VALID),  # the key is beside the point offline
    (_NET_ERROR, OFFLINE, AuthState.VALID),
    (_KEYRING, OFFLINE, AuthState.KEYRING_ERROR),
])
def test_indicator_after_an_error(error: LiveTranscriberError, engine: EngineChoice,
                                  after: AuthState) -> None:
    current = auth.AuthStatus(AuthState.VALID, "Key valid")
    assert policy.status_after_error(error, engine, current).state is after


@pytest.mark.parametrize(("error", "engine", "surface", "offers"), [
    (_NET_ERROR, CLOUD, Surface.WINDOW, "choose the Offline engine"),
    (_NET_ERROR, CLOUD, Surface.HEADLESS, "--engine offline"),
    (SessionLostError("The session ended."), CLOUD, Surface.WINDOW, "choose the Offline engine"),
    (_NET_ERROR, OFFLINE, Surface.WINDOW, None),
    (_KEY_ERROR, CLOUD, Surface.WINDOW, None),
])
def test_error_text_offers_the_way_out_of_its_surface(
    error: LiveTranscriberError, engine: EngineChoice, surface: Surface, offers: str | None,
) -> None:
    text = policy.error_text(error, engine, surface)
    assert text.startswith(str(error))
    if offers is None:
        assert text == str(error)
    else:
        assert offers in text


# --- where the audio goes ----------------------------------------------------------------

US, EU = Region.US, Region.EU
VALID = auth.from_check(KeyCheck(KeyStatus.VALID))
REJECTED = auth.from_check(KeyCheck(KeyStatus.REJECTED))


@pytest.mark.parametrize(("engine", "region", "key", "link", "text", "tone"), [
    (CLOUD, EU, VALID, Link.NORMAL, "AssemblyAI cloud (EU) · key valid", Tone.GOOD),
    (CLOUD, US, VALID, Link.NORMAL, "AssemblyAI cloud (US) · key valid", Tone.GOOD),
    (CLOUD, US, auth.checking(), Link.NORMAL, "AssemblyAI cloud (US) · checking key…",
     Tone.PENDING),
    (CLOUD, US, auth.no_key(), Link.NORMAL, "AssemblyAI cloud (US) · no API key", Tone.PROBLEM),
    (CLOUD, US, REJECTED, Link.NORMAL, "AssemblyAI cloud (US) · key rejected", Tone.PROBLEM),
    (CLOUD, EU, VALID, Link.RECONNECTING, "AssemblyAI cloud (EU) · reconnecting…", Tone.PENDING),
    # Offline: the key's state is beside the point and never shown (a rejected key that was
    # never saved must not read as a problem while the audio stays here).
    (OFFLINE, US, REJECTED, Link.NORMAL, "On this computer · Whisper tiny.en", Tone.LOCAL),
    (OFFLINE, US, auth.offline(), Link.NORMAL, "On this computer · Whisper tiny.en", Tone.LOCAL),
    (OFFLINE, US, VALID, Link.FALLBACK, "Offline fallback · on this computer", Tone.LOCAL),
    (CLOUD, US, VALID, Link.FALLBACK, "Offline fallback · on this computer", Tone.LOCAL),
])
def test_the_engine_indicator_names_where_the_audio_goes(
    engine: EngineChoice, region: Region, key: auth.AuthStatus, link: Link, text: str,
    tone: Tone,
) -> None:
    status = policy.engine_status(engine, region, "tiny.en", key, link)
    assert (status.text, status.tone) == (text, tone)
    local = tone is Tone.LOCAL
    assert ("nothing is sent" in status.detail) is local
    assert ("sent to AssemblyAI" in status.detail) is not local


def test_the_cloud_indicator_carries_the_keys_cause_and_fix_in_its_detail() -> None:
    detail = policy.engine_status(CLOUD, US, "tiny.en", REJECTED).detail
    assert REJECTED.cause in detail and REJECTED.remedy in detail


@pytest.mark.parametrize(("notice", "before", "after"), [
    (NoticeKind.RECONNECTING, Link.NORMAL, Link.RECONNECTING),
    (NoticeKind.RECONNECTED, Link.RECONNECTING, Link.NORMAL),
    (NoticeKind.FALLBACK, Link.RECONNECTING, Link.FALLBACK),
    (NoticeKind.RECONNECTING, Link.FALLBACK, Link.FALLBACK),
    (NoticeKind.RECONNECTED, Link.FALLBACK, Link.FALLBACK),
    (NoticeKind.AUDIO_LOST, Link.RECONNECTING, Link.RECONNECTING),
    (NoticeKind.AUDIO_LOST, Link.NORMAL, Link.NORMAL),
])
def test_link_state_follows_the_recorders_notices(notice: NoticeKind, before: Link,
                                                  after: Link) -> None:
    assert policy.link_after(notice, before) is after


# --- the message bar ---------------------------------------------------------------------

@pytest.mark.parametrize(("error", "engine", "actions"), [
    (AuthError("rejected"), CLOUD, (Action.OPEN_SETTINGS, Action.SWITCH_OFFLINE)),
    (AuthError("rejected"), OFFLINE, (Action.OPEN_SETTINGS,)),
    (ConnectionFailedError("gone"), CLOUD, (Action.RETRY, Action.SWITCH_OFFLINE)),
    (SessionLostError("lost"), OFFLINE, (Action.RETRY,)),
    (OfflineModelError("damaged"), OFFLINE, (Action.OPEN_SETTINGS,)),
    (AudioError("no mic"), CLOUD, (Action.RETRY,)),
    (AudioRejectedError("chunk"), CLOUD, ()),
    (SecretStoreError("locked"), CLOUD, ()),
])
def test_each_error_gets_the_buttons_that_act_on_its_remedy(
    error: LiveTranscriberError, engine: EngineChoice, actions: tuple[Action, ...],
) -> None:
    message = policy.error_message(error, engine)
    assert message.actions == actions
    assert message.severity is Severity.ERROR
    assert message.text == policy.error_text(error, engine, Surface.WINDOW)


def test_a_save_failure_is_a_warning() -> None:
    message = policy.error_message(ExportError("Could not write x.txt."), CLOUD)
    assert message.severity is Severity.WARNING


def test_a_refused_start_offers_settings_and_offline() -> None:
    message = policy.refusal_message(policy.plan_engine(CLOUD, False, Surface.WINDOW))
    assert message.actions == (Action.OPEN_SETTINGS, Action.SWITCH_OFFLINE)
    assert "No AssemblyAI API key" in message.text


@pytest.mark.parametrize(("kind", "severity"), [
    (NoticeKind.RECONNECTING, Severity.WARNING),
    (NoticeKind.RECONNECTED, Severity.INFO),
    (NoticeKind.FALLBACK, Severity.WARNING),
    (NoticeKind.AUDIO_LOST, Severity.WARNING),
])
def test_recorder_notices_keep_their_sentence(kind: NoticeKind, severity: Severity) -> None:
    message = policy.notice_message(RecordingNotice(kind, "A full sentence."))
    assert (message.severity, message.text, message.actions) == (severity, "A full sentence.",
                                                                 ())


def _unfinished(started: datetime | None, turns: int) -> UnfinishedRecording:
    return UnfinishedRecording(Path("a.journal.jsonl"), Path("a.txt"), started, turns,
                               "good morning everyone")


@pytest.mark.parametrize(("found", "says", "more"), [
    ([_unfinished(datetime(2026, 12, 3, 20, 41), 3)],
     "The recording from 03 December 2026 at 20:41 did not end cleanly (3 paragraphs, "
     "“good morning everyone”).", None),
    ([_unfinished(None, 1), _unfinished(None, 2)],
     "The recording from an earlier run did not end cleanly (1 paragraph,", "1 more unfinished"),
    ([_unfinished(None, 1)] * 3, "from an earlier run", "2 more unfinished recordings"),
])
def test_the_recovery_offer_says_which_recording(found: list[UnfinishedRecording], says: str,
                                                 more: str | None) -> None:
    message = policy.recovery_message(found)
    assert message.actions == (Action.RESTORE, Action.DISMISS)
    assert says in message.text
    assert ("more unfinished" in message.text) is (more is not None)
    if more is not None:
        assert more in message.text


def test_the_settings_dialog_never_says_open_settings() -> None:
    rejected = AuthError("AssemblyAI rejected the API key.",
                         remedy="Open Settings → API key and enter a valid AssemblyAI key.")
    text = policy.settings_key_text(rejected)
    assert text.startswith("AssemblyAI rejected the API key.") and "Settings" not in text
    gone = ConnectionFailedError("No answer.", remedy="Check your internet connection.")
    assert policy.settings_key_text(gone) == str(gone)


def test_the_offline_engines_pace_reads_as_one_sentence() -> None:
    from app.core.recording import NoticeKind

    behind = policy.pace_notice(3200, "Words in progress now update less often.")
    assert behind.kind is NoticeKind.BEHIND
    assert behind.text.startswith("Behind by 3 s. Words in progress")
    assert "still transcribed" in behind.text
    assert policy.pace_notice(0, "").kind is NoticeKind.CAUGHT_UP


@pytest.mark.parametrize(("waiting", "carried", "behind", "said"), [
    (0, 3000, False, None),  # a live link that keeps up
    (5000, 2000, False, NoticeKind.BEHIND),  # piling up, the link at 2/3 of real time
    (2500, 1000, False, None),  # slow, but not yet much waiting
    (8000, 3750, False, None),  # a catch-up after a reconnect: more than real time goes
    (6000, 1500, True, None),  # said already
    (900, 3000, True, NoticeKind.CAUGHT_UP),
    (1500, 3000, True, None),  # not caught up yet
])
def test_a_slow_uplink_is_said_once_and_its_catching_up_too(
        waiting: int, carried: int, behind: bool, said: NoticeKind | None) -> None:
    notice = policy.uplink_notice(waiting, carried, 3000, behind)
    assert (notice.kind if notice is not None else None) is said
    if said is NoticeKind.BEHIND:
        assert notice is not None and notice.text == (
            "The connection to AssemblyAI is slow: 5 s of audio is waiting to be sent. "
            "Nothing is lost; the words will come late.")


@pytest.mark.parametrize(("waiting", "carried", "too_slow"), [
    (12_000, 1200, True),  # 12 s waiting, the link at 0.4x real time
    (9_000, 1200, False),  # slow, but less waiting than an outage is given
    (30_000, 3600, False),  # a catch-up after a reconnect: more than real time goes
    (10_000, 2600, True),  # just under 0.9x: it never catches up
])
def test_automatic_stops_waiting_for_a_link_that_cannot_keep_up(
        waiting: int, carried: int, too_slow: bool) -> None:
    error = policy.uplink_too_slow(waiting, carried, 3000, limit_ms=10_000)
    assert (error is not None) is too_slow
    if error is not None:
        assert error.retryable
        assert error.message.startswith(
            f"The connection to AssemblyAI is too slow to keep up: {waiting // 1000} s of audio")


def test_the_fallback_says_why_in_one_plain_sentence() -> None:
    from app.core.errors import SlowLinkError

    slow = policy.fallback_text(SlowLinkError(
        "The connection to AssemblyAI is too slow to keep up: 12 s of audio was waiting."))
    assert slow == ("The connection to AssemblyAI is too slow to keep up: 12 s of audio was "
                    "waiting. Continuing on this computer with the offline engine; nothing "
                    "said meanwhile is lost.")
    down = policy.fallback_text(ConnectionFailedError("AssemblyAI stopped answering."))
    assert down.startswith("The cloud could not be reached (AssemblyAI stopped answering). "
                           "Continuing on this computer")


def test_the_indicator_after_a_fallback_says_nothing_leaves_the_computer() -> None:
    from app.core.auth import AuthState

    status = policy.status_after_fallback()
    assert status.state is AuthState.OFFLINE
    assert "too slow" in status.cause and "could not be reached" in status.cause
