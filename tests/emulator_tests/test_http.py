"""Token endpoints and request recording (PROTOCOL.md §1.3)."""

from __future__ import annotations

import pytest

from tests.emulator import Emulator

from .helpers import KEY, http

AUTH = {"Authorization": KEY}


async def test_mint_token_shape_and_recording(emulator: Emulator) -> None:
    url = f"{emulator.http_url}/v3/token?expires_in_seconds=60&max_session_duration_seconds=600"
    result = await http(url, headers={**AUTH, "User-Agent": "probe"})
    assert result.status == 200
    assert set(result.body) == {"token", "expires_in_seconds"}
    assert result.body["expires_in_seconds"] == 60
    assert isinstance(result.body["token"], str) and len(result.body["token"]) >= 32
    [request] = emulator.requests
    assert (request.method, request.path) == ("GET", "/v3/token")
    assert request.query == {"expires_in_seconds": ["60"], "max_session_duration_seconds": ["600"]}
    assert request.headers["authorization"] == KEY
    assert request.headers["user-agent"] == "probe"
    assert request.raw_target == "/v3/token?expires_in_seconds=60&max_session_duration_seconds=600"
    assert not request.is_websocket


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "nope"}, {"Authorization": f"Bearer {KEY}"}]
)
async def test_mint_token_bad_key_401(emulator: Emulator, headers: dict[str, str]) -> None:
    result = await http(f"{emulator.http_url}/v3/token?expires_in_seconds=60", headers=headers)
    assert (result.status, result.body) == (401, {"error": "Invalid API key"})


@pytest.mark.parametrize(
    "query",
    [
        "",
        "expires_in_seconds=0",
        "expires_in_seconds=601",
        "expires_in_seconds=abc",
        "expires_in_seconds=60&max_session_duration_seconds=59",
        "expires_in_seconds=60&max_session_duration_seconds=10801",
    ],
)
async def test_mint_token_bad_values_400(emulator: Emulator, query: str) -> None:
    result = await http(f"{emulator.http_url}/v3/token?{query}", headers=AUTH)
    assert result.status == 400
    assert isinstance(result.body["error"], str) and result.body["error"]


@pytest.mark.parametrize("query", ["expires_in_seconds=1", "expires_in_seconds=600"])
async def test_mint_token_bounds_accepted(emulator: Emulator, query: str) -> None:
    result = await http(f"{emulator.http_url}/v3/token?{query}", headers=AUTH)
    assert result.status == 200


async def test_v2_token_endpoint_not_authorized(emulator: Emulator) -> None:
    result = await http(
        f"{emulator.http_url}/v2/realtime/token",
        method="POST",
        headers={**AUTH, "Content-Type": "application/json"},
        data=b'{"expires_in": 3600}',
    )
    assert (result.status, result.body) == (401, {"error": "Not authorized"})
    assert emulator.requests[0].body == b'{"expires_in": 3600}'


async def test_post_v3_token_not_allowed(emulator: Emulator) -> None:
    result = await http(
        f"{emulator.http_url}/v3/token?expires_in_seconds=60", method="POST", headers=AUTH, data=b""
    )
    assert result.status == 405


async def test_unknown_path_404(emulator: Emulator) -> None:
    result = await http(f"{emulator.http_url}/v2/transcript?limit=1", headers=AUTH)
    assert result.status == 404
    assert "error" in result.body
