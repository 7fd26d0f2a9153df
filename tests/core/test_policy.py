"""The shared decisions, as tables: engine choice, key precedence, what the indicator says."""

from __future__ import annotations

import pytest

from app.core import auth, policy
from app.core.auth import AuthState
from app.core.config import EngineChoice
from app.core.errors import (
    AudioRejectedError,
    AuthError,
    ConnectionFailedError,
    LiveTranscriberError,
    SecretStoreError,
    SessionLostError,
)
from app.core.policy import Surface

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
