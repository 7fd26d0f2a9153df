"""Credentials on /v3/ws and the v2 `auth_key=` failure (PROTOCOL.md §1.2–§1.4, §9.1)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from websockets.exceptions import InvalidStatus

from tests.emulator import Emulator, EmulatorConfig, run_emulator

from .helpers import KEY, collect, mint_token, open_ws, pcm, recv_json, v3_url


async def _rejected(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int | None, str | None, list[dict[str, object]]]:
    async with open_ws(url, headers) as ws:
        outcome = await collect(ws)
    return outcome.code, outcome.reason, outcome.messages


async def test_missing_key_1008(emulator: Emulator) -> None:
    code, reason, messages = await _rejected(v3_url(emulator.url))
    assert (code, reason) == (1008, "Unauthorized Connection: Missing Authorization header")
    assert messages == [{"type": "Error", "error_code": 1008, "error": reason}]
    [session] = await emulator.wait_sessions_closed_async()
    assert session.auth_method is None and not session.began
    assert session.close_code == 1008


@pytest.mark.parametrize("name", ["auth_key", "api_key"])
async def test_key_in_url_is_not_a_credential(emulator: Emulator, name: str) -> None:
    code, reason, _ = await _rejected(v3_url(emulator.url, f"sample_rate=16000&{name}={KEY}"))
    assert (code, reason) == (1008, "Unauthorized Connection: Missing Authorization header")


@pytest.mark.parametrize("value", ["wrong-key", f"Bearer {KEY}"])
async def test_wrong_key_1008(emulator: Emulator, value: str) -> None:
    code, reason, _ = await _rejected(v3_url(emulator.url), {"Authorization": value})
    assert (code, reason) == (1008, "Unauthorized Connection: Invalid API key")


async def test_1008_without_error_frame() -> None:
    async with run_emulator(EmulatorConfig(send_error_frame=False)) as emulator:
        code, reason, messages = await _rejected(v3_url(emulator.url))
    assert code == 1008 and reason is not None and messages == []


async def test_token_query_then_reuse_rejected(emulator: Emulator) -> None:
    token = await mint_token(emulator.http_url)
    async with open_ws(v3_url(emulator.url, f"sample_rate=16000&token={quote(token)}")) as ws:
        assert (await recv_json(ws))["type"] == "Begin"
        await ws.send(pcm(100))
        await ws.send(json.dumps({"type": "Terminate"}))
        assert (await collect(ws)).code == 1000
    code, reason, _ = await _rejected(v3_url(emulator.url, f"token={quote(token)}"))
    assert (code, reason) == (1008, "Unauthorized Connection: Token already used")
    sessions = await emulator.wait_sessions_closed_async(2)
    assert [s.auth_method for s in sessions] == ["query-token", None]


async def test_expired_token_rejected(emulator: Emulator) -> None:
    token = await mint_token(emulator.http_url)
    emulator.expire_token(token)
    code, reason, _ = await _rejected(v3_url(emulator.url, f"token={quote(token)}"))
    assert (code, reason) == (1008, "Unauthorized Connection: Token expired")


async def test_unknown_token_rejected(emulator: Emulator) -> None:
    code, reason, _ = await _rejected(v3_url(emulator.url, "token=made-up"))
    assert (code, reason) == (1008, "Unauthorized Connection: Invalid token")


async def test_token_in_authorization_header_accepted(emulator: Emulator) -> None:
    """The Python SDK sends the temporary token in the Authorization header (§1.3, §10)."""
    token = emulator.issue_token()
    async with open_ws(v3_url(emulator.url), {"Authorization": token}) as ws:
        assert (await recv_json(ws))["type"] == "Begin"
        await ws.send(json.dumps({"type": "Terminate"}))
        assert (await collect(ws)).code == 1000
    [session] = await emulator.wait_sessions_closed_async()
    assert session.auth_method == "header-token"


async def test_v2_auth_key_in_url_not_authorized_4001(emulator: Emulator) -> None:
    url = f"{emulator.url}/v2/realtime/ws?sample_rate=16000&auth_key={KEY}"
    async with open_ws(url) as ws:
        outcome = await collect(ws)
    assert outcome.raw == ['{"error": "Not authorized"}']
    assert (outcome.code, outcome.reason) == (4001, "Not authorized")


async def test_v2_happy_path_with_header_key(emulator: Emulator) -> None:
    url = f"{emulator.url}/v2/realtime/ws?sample_rate=16000&enable_extra_session_information=true"
    async with open_ws(url, {"Authorization": KEY}) as ws:
        begins = await recv_json(ws)
        assert begins["message_type"] == "SessionBegins"
        assert isinstance(begins["expires_at"], str) and "+" not in begins["expires_at"]
        for _ in range(5):
            await ws.send(pcm(100))
        await ws.send(json.dumps({"terminate_session": True}))
        outcome = await collect(ws)
    kinds = [m["message_type"] for m in outcome.messages]
    assert kinds[-3:] == ["FinalTranscript", "SessionInformation", "SessionTerminated"]
    assert "PartialTranscript" in kinds
    final = outcome.messages[-3]
    assert final["text"] == "Hello world." and final["punctuated"] is True
    assert outcome.messages[-2]["audio_duration_seconds"] == 0.5
    assert outcome.code == 1000


async def test_v2_token_in_query(emulator: Emulator) -> None:
    token = emulator.issue_token()
    url = f"{emulator.url}/v2/realtime/ws?sample_rate=16000&token={quote(token)}"
    async with open_ws(url) as ws:
        assert (await recv_json(ws))["message_type"] == "SessionBegins"


async def test_unknown_ws_path_refused_404(emulator: Emulator) -> None:
    with pytest.raises(InvalidStatus) as caught:
        async with open_ws(f"{emulator.url}/v3/wss", {"Authorization": KEY}):
            pass
    assert caught.value.response.status_code == 404
