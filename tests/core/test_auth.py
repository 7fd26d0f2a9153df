from __future__ import annotations

import pytest

from app.core import auth
from app.core import errors as e
from app.core.auth import AuthState
from app.core.ports import KeyCheck, KeyStatus


def test_fixed_states_have_text_cause_and_a_way_forward() -> None:
    for status in (auth.no_key(), auth.checking(), auth.offline()):
        assert status.text and status.cause
    assert auth.no_key().state is AuthState.NO_KEY and "Settings" in auth.no_key().remedy
    assert auth.offline().text == "Offline — no key needed"


def test_valid_key() -> None:
    status = auth.from_check(KeyCheck(KeyStatus.VALID))
    assert (status.state, status.text) == (AuthState.VALID, "Key valid")


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (e.error_for_http_status(401, "Invalid API key"), AuthState.REJECTED),
        (e.error_for_close(1008, "Unauthorized Connection: Invalid API key"), AuthState.REJECTED),
        (e.error_for_close(4002), AuthState.NO_CREDIT),
        (e.error_for_close(3009), AuthState.RATE_LIMITED),
        (e.error_for_http_status(429), AuthState.RATE_LIMITED),
        (e.ConnectionFailedError("Could not reach AssemblyAI."), AuthState.UNREACHABLE),
        (e.error_for_http_status(503), AuthState.UNREACHABLE),
        (e.SecretStoreError("Could not read the API key."), AuthState.KEYRING_ERROR),
    ],
)
def test_errors_map_to_states_with_the_service_reason(
    error: e.LiveTranscriberError | None, state: AuthState
) -> None:
    assert error is not None
    status = auth.from_error(error)
    assert status is not None and status.state is state
    assert status.cause == error.message
    assert status.remedy
    assert status.cause in status.tooltip and status.remedy in status.tooltip
    assert status.text in status.spoken and status.spoken.endswith(".")


def test_rejection_names_the_services_reason() -> None:
    error = e.error_for_close(1008, "Unauthorized Connection: Invalid API key")
    assert error is not None
    status = auth.from_error(error)
    assert status is not None and "Invalid API key" in status.tooltip


def test_errors_unrelated_to_the_key_leave_the_indicator_alone() -> None:
    rejected_audio = e.error_for_close(3007)
    assert rejected_audio is not None and auth.from_error(rejected_audio) is None
    assert auth.from_error(e.ProtocolError("text that is not JSON")) is None
    assert auth.from_error(e.AudioError("The microphone was unplugged.")) is None


def test_checks_without_a_key_related_error_still_say_something() -> None:
    check = KeyCheck(KeyStatus.UNREACHABLE, e.error_for_http_status(400, "bad"))
    status = auth.from_check(check)
    assert status.state is AuthState.UNREACHABLE and status.cause


def test_session_only_is_said_in_the_tooltip() -> None:
    status = auth.from_check(KeyCheck(KeyStatus.VALID), session_only=True)
    assert "session only" in status.tooltip
