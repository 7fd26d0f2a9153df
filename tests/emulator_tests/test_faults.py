"""Fault knobs: late/missing Begin, server closes, malformed frames, dropped TCP."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.emulator import EmulatorConfig, run_emulator

from .helpers import KEY, collect, open_ws, recv_json, v3_url

AUTH = {"Authorization": KEY}


@pytest.mark.parametrize("send_error_frame", [True, False])
async def test_close_after_with_error_code(send_error_frame: bool) -> None:
    reason = "Session Cancelled: An error occurred"
    config = EmulatorConfig(close_after=(3005, 0.2, reason), send_error_frame=send_error_frame)
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            assert (await recv_json(ws))["type"] == "Begin"
            outcome = await collect(ws)
        [session] = await emulator.wait_sessions_closed_async()
    assert (outcome.code, outcome.reason) == (3005, reason)
    expected = [{"type": "Error", "error_code": 3005, "error": reason}] if send_error_frame else []
    assert outcome.of_type("Error") == expected
    assert (session.close_code, session.close_reason) == (3005, reason)


async def test_close_after_normal_has_no_error_frame() -> None:
    async with run_emulator(EmulatorConfig(close_after=(1000, 0.1, "bye"))) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws)
    assert [m["type"] for m in outcome.messages] == ["Begin"]
    assert (outcome.code, outcome.reason) == (1000, "bye")


async def test_withhold_begin_sends_nothing() -> None:
    async with run_emulator(EmulatorConfig(withhold_begin=True)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await ws.send(json.dumps({"type": "Terminate"}))
            with pytest.raises(TimeoutError):
                await recv_json(ws, seconds=0.3)
        [session] = await emulator.wait_sessions_closed_async()
    assert not session.began and session.messages_sent == []
    assert session.close_code == 1000  # the client closed


async def test_withhold_begin_then_close_after() -> None:
    config = EmulatorConfig(withhold_begin=True, close_after=(3005, 0.2, "stuck"))
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws)
    assert [m["type"] for m in outcome.messages] == ["Error"]
    assert outcome.code == 3005


async def test_malformed_frame_then_session_continues() -> None:
    async with run_emulator(EmulatorConfig(malformed_after=0.1)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            assert (await recv_json(ws))["type"] == "Begin"
            async with asyncio.timeout(3):
                raw = await ws.recv()
            assert raw == '{"type": "Turn", "turn_order": '
            await ws.send(json.dumps({"type": "Terminate"}))
            outcome = await collect(ws)
    assert [m["type"] for m in outcome.messages] == ["Termination"]
    assert outcome.code == 1000


async def test_drop_after_is_abnormal_1006() -> None:
    async with run_emulator(EmulatorConfig(drop_after=0.2)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws)
        [session] = await emulator.wait_sessions_closed_async()
    assert [m["type"] for m in outcome.messages] == ["Begin"]
    assert outcome.code == 1006
    assert session.close_code == 1006


async def test_begin_delay() -> None:
    loop = asyncio.get_running_loop()
    async with run_emulator(EmulatorConfig(begin_delay=0.3)) as emulator:
        started = loop.time()
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            assert (await recv_json(ws))["type"] == "Begin"
    assert loop.time() - started >= 0.3
