"""The newer fault knobs, each against the real server with a raw websockets client."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect

from tests.emulator import EmulatorConfig, ScriptedRecognizer, run_emulator
from tests.emulator.faults import LONE_SURROGATE

from .helpers import KEY, assert_turn_shape, collect, mint_token, open_ws, pcm, recv_json, v3_url

AUTH = {"Authorization": KEY}


def fast_words(params: object) -> ScriptedRecognizer:
    return ScriptedRecognizer(["alpha beta gamma"], ms_per_word=50)


@pytest.mark.parametrize(
    ("code", "reason"), [(1011, "Internal Error"), (1012, "Service Restart"),
                         (1013, "Try Again Later")]
)
async def test_infrastructure_closes_come_without_an_error_frame(code: int, reason: str) -> None:
    async with run_emulator(EmulatorConfig(close_after=(code, 0.1, reason))) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws)
        [session] = await emulator.wait_sessions_closed_async()
    assert [m["type"] for m in outcome.messages] == ["Begin"]
    assert (outcome.code, outcome.reason) == (code, reason)
    assert (session.close_code, session.close_reason) == (code, reason)


async def test_stall_reads_and_answers_nothing_until_the_client_hangs_up() -> None:
    async with run_emulator(EmulatorConfig(stall_after=0.1)) as emulator:
        ws = await connect(v3_url(emulator.url), additional_headers=AUTH, ping_interval=None)
        assert (await recv_json(ws))["type"] == "Begin"
        await ws.send(pcm(100))
        await emulator.wait_until_async(lambda: emulator.sessions[0].stalled)
        for _ in range(3):
            await ws.send(pcm(100))  # accepted by TCP, never read by the service
        await ws.send(json.dumps({"type": "Terminate"}))
        pong = await ws.ping()
        with pytest.raises(TimeoutError):  # a bounded wait for something that must not come
            async with asyncio.timeout(0.5):
                await asyncio.shield(pong)
        with pytest.raises(TimeoutError):
            await recv_json(ws, seconds=0.2)
        ws.transport.abort()  # the client gives up, as after its own timeout
        [session] = await emulator.wait_sessions_closed_async(seconds=3)
    assert session.stalled and session.close_code == 1006
    assert session.frames_received == 1 and session.text_messages_received == []
    assert [m["type"] for m in session.messages_sent] == ["Begin"]


async def test_stalled_session_is_dropped_by_drop_all_and_at_shutdown() -> None:
    async with run_emulator(EmulatorConfig(stall_after=0.0)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await emulator.wait_until_async(lambda: emulator.sessions[0].stalled)
            assert emulator.drop_all() == 1
            outcome = await collect(ws)
        client = await connect(v3_url(emulator.url), additional_headers=AUTH)
        await recv_json(client)
        await emulator.wait_until_async(lambda: emulator.sessions[1].stalled)
    # Leaving run_emulator dropped it (1006) instead of websockets' closing handshake (1001),
    # which a stalled session would make wait out its close timeout.
    await collect(client)
    assert outcome.code == 1006 and client.close_code == 1006
    assert [s.close_code for s in emulator.sessions] == [1006, 1006]


@pytest.mark.parametrize("size", [6 * 2**20, 2000])
async def test_oversized_frame_is_one_json_warning_of_the_requested_size(size: int) -> None:
    config = EmulatorConfig(oversized_after=0.05, oversized_bytes=size)
    async with run_emulator(config) as emulator:
        async with connect(v3_url(emulator.url), additional_headers=AUTH, max_size=None) as ws:
            await recv_json(ws)
            async with asyncio.timeout(5):
                raw = await ws.recv()
            assert isinstance(raw, str) and len(raw.encode()) == size
            message = json.loads(raw)
            assert message["type"] == "Warning" and message["warning_code"] == 0


async def test_oversized_frame_trips_a_default_client_limit_1009() -> None:
    async with run_emulator(EmulatorConfig(oversized_after=0.05)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws, seconds=6)
        [session] = await emulator.wait_sessions_closed_async()
    # websockets' client refuses frames over 1 MiB: it fails the connection with 1009.
    assert ws.protocol.close_sent is not None and ws.protocol.close_sent.code == 1009
    assert session.close_code == 1009
    assert [m["type"] for m in outcome.messages] == ["Begin"]


async def test_repeated_begin_has_a_new_id() -> None:
    async with run_emulator(EmulatorConfig(repeat_begin_after=0.05)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            first, second = await recv_json(ws), await recv_json(ws)
    assert first["type"] == second["type"] == "Begin"
    assert first["id"] != second["id"] and type(second["expires_at"]) is int


async def test_unrequested_termination_then_close_1000_and_later_audio_is_ignored() -> None:
    config = EmulatorConfig(termination_after=0.3, recognizer_factory=fast_words)
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send(pcm(100))
            turn = await recv_json(ws)
            outcome = await collect(ws)
        [session] = await emulator.wait_sessions_closed_async()
    assert turn["type"] == "Turn"
    assert outcome.messages[-1]["type"] == "Termination"
    assert type(outcome.messages[-1]["audio_duration_seconds"]) is int
    assert (outcome.code, outcome.reason) == (1000, "")
    assert session.text_messages_received == []  # the client never asked for it


@pytest.mark.parametrize("via", ["header-key", "query-token"])
async def test_key_echo_puts_the_credential_in_the_error_text_and_close_reason(via: str) -> None:
    async with run_emulator(EmulatorConfig(key_echo_after=0.05)) as emulator:
        if via == "header-key":
            credential, url, headers = KEY, v3_url(emulator.url), AUTH
        else:
            credential = await mint_token(emulator.http_url)
            url, headers = v3_url(emulator.url, f"sample_rate=16000&token={credential}"), {}
        async with open_ws(url, headers) as ws:
            outcome = await collect(ws)
    [error] = outcome.of_type("Error")
    assert error["error_code"] == 3005 and credential in error["error"]
    assert outcome.code == 3005 and outcome.reason is not None and credential in outcome.reason


async def test_lone_surrogate_is_a_json_escape_in_the_next_turn() -> None:
    config = EmulatorConfig(surrogate_after=0.0, recognizer_factory=fast_words)
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send(pcm(150))
            async with asyncio.timeout(3):
                raws = [await ws.recv() for _ in range(3)]
    assert all(isinstance(raw, str) for raw in raws)
    assert "\\ud800" in str(raws[0]) and "\\ud800" not in "".join(str(r) for r in raws[1:])
    assert str(raws[0]).isascii()
    turn = json.loads(raws[0])
    assert_turn_shape(turn)
    assert turn["words"][-1]["text"] == "alpha" + LONE_SURROGATE
    assert [json.loads(raw)["words"][0]["text"] for raw in raws[1:]] == ["alpha", "alpha"]


async def test_expire_after_closes_3008_and_begin_says_when() -> None:
    async with run_emulator(EmulatorConfig(expire_after=0.3)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            begin = await recv_json(ws)
            outcome = await collect(ws)
    assert abs(begin["expires_at"] - time.time()) <= 1.5
    reason = "Session Expired: Maximum session duration exceeded"
    assert outcome.of_type("Error") == [{"type": "Error", "error_code": 3008, "error": reason}]
    assert (outcome.code, outcome.reason) == (3008, reason)
