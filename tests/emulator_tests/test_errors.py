"""Error closes: frame duration, invalid messages, parameters, rate rule, legacy codes."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.emulator import Emulator, EmulatorConfig, run_emulator

from .helpers import KEY, collect, open_ws, pcm, recv_json, v3_url

AUTH = {"Authorization": KEY}


@pytest.mark.parametrize(("ms", "shown"), [(20, "20"), (1500, "1500")])
async def test_bad_frame_duration_3007(emulator: Emulator, ms: int, shown: str) -> None:
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        await ws.send(pcm(ms))
        outcome = await collect(ws)
    reason = f"Input duration violation: {shown} ms. Expected between 50 and 1000 ms"
    assert (outcome.code, outcome.reason) == (3007, reason)
    assert outcome.of_type("Error") == [{"type": "Error", "error_code": 3007, "error": reason}]


async def test_frame_duration_bounds_are_inclusive(emulator: Emulator) -> None:
    async with open_ws(v3_url(emulator.url, "sample_rate=8000"), AUTH) as ws:
        await recv_json(ws)
        await ws.send(pcm(50, rate=8000))
        await ws.send(pcm(1000, rate=8000))
        await ws.send(json.dumps({"type": "Terminate"}))
        outcome = await collect(ws)
    assert outcome.code == 1000


async def test_bad_frame_duration_legacy_3005() -> None:
    async with run_emulator(EmulatorConfig(legacy_codes=True)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send(pcm(10))
            outcome = await collect(ws)
    reason = "Input duration violation: 10 ms. Expected between 50 and 1000 ms"
    assert (outcome.code, outcome.reason) == (3005, reason)
    assert outcome.of_type("Error")[0]["error_code"] == 3005


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "Invalid JSON: not json"),
        ("[]", "Invalid Message: []"),
        ('{"kind": "Terminate"}', 'Invalid Message: {"kind": "Terminate"}'),
        ('{"type": "Dance"}', "Invalid Message Type: Dance"),
    ],
)
async def test_invalid_text_frames_3006(emulator: Emulator, text: str, reason: str) -> None:
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        await ws.send(text)
        outcome = await collect(ws)
    assert (outcome.code, outcome.reason) == (3006, reason)
    assert outcome.of_type("Error") == [{"type": "Error", "error_code": 3006, "error": reason}]


async def test_invalid_json_legacy_3005() -> None:
    async with run_emulator(EmulatorConfig(legacy_codes=True)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send("{oops")
            outcome = await collect(ws)
    assert (outcome.code, outcome.reason) == (3005, "Invalid JSON: {oops")


async def test_long_reason_is_replaced_and_full_text_in_error_frame(emulator: Emulator) -> None:
    text = "x" * 300
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        await ws.send(text)
        outcome = await collect(ws)
    assert outcome.code == 3006
    assert outcome.reason == "See Error message for details"
    assert outcome.of_type("Error")[0]["error"] == f"Invalid JSON: {text}"


async def test_long_reason_truncated_without_error_frame() -> None:
    async with run_emulator(EmulatorConfig(send_error_frame=False)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send("é" * 200)
            outcome = await collect(ws)
    assert outcome.code == 3006 and outcome.reason is not None
    assert outcome.reason.startswith("Invalid JSON: é")
    assert len(outcome.reason.encode()) <= 123
    assert outcome.of_type("Error") == []


@pytest.mark.parametrize(
    "query",
    [
        "sample_rate=abc",
        "sample_rate=0",
        "speech_model=nope",
        "format_turns=maybe",
        "keyterms_prompt=notjson",
        "encoding=flac",
    ],
)
async def test_invalid_query_3006(emulator: Emulator, query: str) -> None:
    async with open_ws(v3_url(emulator.url, query), AUTH) as ws:
        outcome = await collect(ws)
    assert outcome.code == 3006
    assert outcome.reason is not None and outcome.reason.startswith("Invalid Query Parameter: ")
    assert [m["type"] for m in outcome.messages] == ["Error"]  # no Begin
    [session] = await emulator.wait_sessions_closed_async()
    assert session.params is None and session.auth_method == "header-key"


async def test_rate_rule_trips_when_far_ahead() -> None:
    async with run_emulator(EmulatorConfig(max_ahead_seconds=1.05)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            for _ in range(30):
                await ws.send(pcm(100))
            outcome = await collect(ws)
    assert outcome.code == 3007
    assert outcome.reason is not None
    assert outcome.reason.startswith(
        "Audio Transmission Rate Exceeded: Received 1.1 sec. audio in "
    )
    assert outcome.reason.endswith(" sec")
    error = outcome.of_type("Error")[0]
    assert error["error_code"] == 3007
    assert error["error"] == f"Input Duration Error: {outcome.reason}"


async def test_rate_rule_allows_real_time() -> None:
    loop = asyncio.get_running_loop()
    async with run_emulator(EmulatorConfig(max_ahead_seconds=0.3)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            start = loop.time()
            for index in range(15):  # 1.5 s of audio, paced on an absolute schedule
                await asyncio.sleep(max(0.0, start + index * 0.1 - loop.time()))  # pacing
                await ws.send(pcm(100))
            await ws.send(json.dumps({"type": "Terminate"}))
            outcome = await collect(ws)
    assert outcome.code == 1000
    assert outcome.of_type("Error") == []


async def test_server_keeps_reading_after_error(emulator: Emulator) -> None:
    """A client that keeps sending after the Error must not stall the close (PROTOCOL.md §10)."""
    loop = asyncio.get_running_loop()
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        started = loop.time()
        await ws.send(pcm(10))
        for _ in range(40):
            await ws.send(pcm(100))
        outcome = await collect(ws)
    assert outcome.code == 3007
    assert loop.time() - started < 1.5  # well below both close timeouts
    [session] = await emulator.wait_sessions_closed_async()
    assert session.frames_received == 41
    assert session.close_code == 3007
