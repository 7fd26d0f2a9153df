"""The error tree and the close-code / HTTP-status tables (PROTOCOL.md §5, §1.3)."""

from __future__ import annotations

import pytest

from app.core import errors as e

DOCUMENTED_V3 = {
    1008: e.AuthError, 3005: e.ServerError, 3006: e.ClientMessageError,
    3007: e.AudioRejectedError, 3008: e.SessionExpiredError, 3009: e.RateLimitError,
}
SDK_TABLE = {
    1013: e.ServerError, 4000: e.AudioRejectedError, 4001: e.AuthError, 4002: e.AccountError,
    4003: e.AccountError, 4004: e.SessionLostError, 4008: e.SessionExpiredError,
    4010: e.SessionLostError, 4029: e.AudioRejectedError, 4030: e.SessionLostError,
    4031: e.SessionLostError, 4032: e.AudioRejectedError, 4033: e.AudioRejectedError,
    4034: e.AudioRejectedError, 4100: e.ClientMessageError, 4101: e.ClientMessageError,
    4102: e.RateLimitError, 4103: e.SessionLostError, 4104: e.ClientMessageError,
}


@pytest.mark.parametrize(("code", "kind"), sorted({**DOCUMENTED_V3, **SDK_TABLE}.items()))
def test_every_documented_close_code_maps_to_its_typed_error(
    code: int, kind: type[e.ServiceError]
) -> None:
    error = e.error_for_close(code, "")
    assert type(error) is kind
    assert error.code == code
    assert error.message.endswith(".") and error.message[0].isupper()
    assert error.remedy, f"close {code} has no remedy"
    assert str(error) == f"{error.message} {error.remedy}"


def test_clean_close_is_not_an_error() -> None:
    assert e.error_for_close(1000, "") is None


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(1008, False), (4001, False), (4002, False), (3008, True), (3009, True), (3005, True),
     (1013, True), (4031, True), (3006, False), (4030, False)],
)
def test_retryable_flags(code: int, retryable: bool) -> None:
    error = e.error_for_close(code)
    assert error is not None and error.retryable is retryable


def test_auth_rejection_quotes_the_service_reason() -> None:
    error = e.error_for_close(1008, "Unauthorized Connection: Invalid API key")
    assert isinstance(error, e.AuthError)
    assert "Invalid API key" in error.message
    assert "Settings" in error.remedy


@pytest.mark.parametrize(
    ("code", "reason", "kind"),
    [
        # The 2025 service used 3005 (and 1008) for everything; the reason tells them apart.
        (3005, "Session Expired: Maximum session duration exceeded", e.SessionExpiredError),
        (3005, "Input duration violation: 20 ms. Expected between 50 and 1000 ms",
         e.AudioRejectedError),
        (3005, "Input Duration Error: Audio Transmission Rate Exceeded: Received 314.9 sec. "
               "audio in 1.3 sec", e.AudioRejectedError),
        (3005, "Invalid JSON: {", e.ClientMessageError),
        (3005, "Invalid Message Type: Foo", e.ClientMessageError),
        (3005, "Session Cancelled: An error occurred", e.ServerError),
        (1008, "Unauthorized Connection: Too many concurrent sessions", e.RateLimitError),
        (1008, "Unauthorized Connection: insufficient balance", e.AccountError),
        (1008, "Unauthorized connection: Incorrect padding", e.AuthError),
    ],
)
def test_legacy_reasons_are_refined(code: int, reason: str, kind: type[e.ServiceError]) -> None:
    assert type(e.error_for_close(code, reason)) is kind


@pytest.mark.parametrize("code", [1006, 1014])
def test_network_closes_are_connection_failures(code: int) -> None:
    error = e.error_for_close(code)
    assert isinstance(error, e.ConnectionFailedError) and error.retryable
    assert "internet" in str(error)


@pytest.mark.parametrize("code", [1001, 1012])
def test_a_server_going_away_is_not_blamed_on_the_network(code: int) -> None:
    error = e.error_for_close(code)
    assert isinstance(error, e.ServerError) and error.retryable
    assert "internet" not in str(error) and f"close {code}" in error.message


@pytest.mark.parametrize("code", [1002, 1007, 1009])
def test_a_broken_frame_is_a_protocol_error(code: int) -> None:
    error = e.error_for_close(code)
    assert isinstance(error, e.ProtocolError) and error.retryable and error.code == code
    assert "internet" not in str(error) and f"close {code}" in error.message


def test_unknown_codes_still_give_a_typed_error_with_the_code() -> None:
    unknown_v2 = e.error_for_close(4999, "")
    assert isinstance(unknown_v2, e.ServiceError) and not unknown_v2.retryable
    assert "4999" in unknown_v2.message
    unknown_other = e.error_for_close(3999, "")
    assert isinstance(unknown_other, e.ServiceError) and unknown_other.retryable


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, e.ClientMessageError), (401, e.AuthError), (403, e.AuthError), (402, e.AccountError),
     (429, e.RateLimitError), (500, e.ServerError), (503, e.ServerError),
     (404, e.ConnectionFailedError), (302, e.ConnectionFailedError)],
)
def test_http_statuses(status: int, kind: type[e.LiveTranscriberError]) -> None:
    error = e.error_for_http_status(status, "")
    assert type(error) is kind and error.code == status and error.remedy


def test_secrets_are_redacted_from_service_text() -> None:
    key = "0123456789abcdef0123456789abcdef"
    close = e.error_for_close(1008, f"Unauthorized Connection: bad key {key}", secrets=[key])
    http = e.error_for_http_status(401, f"Invalid API key {key}", secrets=[key, ""])
    for error in (close, http):
        assert error is not None
        for text in (str(error), repr(error), error.detail, error.message):
            assert key not in text
        assert e.REDACTED in error.detail


def test_redact_ignores_empty_secrets() -> None:
    assert e.redact("abc", ["", "b"]) == "a[redacted]c"


def test_protocol_error_is_retryable_and_plain() -> None:
    error = e.ProtocolError("text that is not JSON")
    assert error.retryable
    assert "does not understand" in str(error)
