"""Faults for some sessions only, outages, drop_all and the replay counters (reconnect tests)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import InvalidMessage, InvalidStatus
from websockets.sync.client import connect as sync_connect

from tests.emulator import EmulatorConfig, EmulatorThread, run_emulator

from .helpers import KEY, collect, http, open_ws, pcm, recv_json, v3_url

AUTH = {"Authorization": KEY}


async def test_faults_hit_only_the_first_n_accepted_sessions() -> None:
    config = EmulatorConfig(drop_after=0.1, withhold_begin=True, fault_sessions=1)
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), {"Authorization": "wrong"}) as refused:
            assert (await collect(refused)).code == 1008  # refused: no number, no fault used
        async with open_ws(v3_url(emulator.url), AUTH) as first:
            dropped = await collect(first)
            assert (dropped.messages, dropped.code) == ([], 1006)  # no Begin, then the drop
        async with open_ws(v3_url(emulator.url), AUTH) as second:
            assert (await recv_json(second))["type"] == "Begin"
            await second.send(pcm(100))
            await emulator.wait_until_async(lambda: emulator.audio_bytes_per_session[1] > 0)
            await second.send(json.dumps({"type": "Terminate"}))
            outcome = await collect(second)
        assert outcome.code == 1000  # lived past drop_after: healthy
        assert emulator.sessions_started == 2
        assert [(s.index, s.faulted) for s in emulator.sessions] == [
            (None, False), (0, True), (1, False)
        ]


async def test_audio_bytes_are_counted_per_session_for_replay_assertions() -> None:
    async with run_emulator() as emulator:
        for frames in (3, 5):
            async with open_ws(v3_url(emulator.url), AUTH) as ws:
                await recv_json(ws)
                for _ in range(frames):
                    await ws.send(pcm(50))
                expected = frames * 1600

                def all_received(expected: int = expected) -> bool:
                    return emulator.audio_bytes_per_session[-1] == expected

                await emulator.wait_until_async(all_received)
        await emulator.wait_sessions_started_async(2)
        with pytest.raises(TimeoutError):
            await emulator.wait_sessions_started_async(3, seconds=0.1)
    assert emulator.audio_bytes_per_session == [4800, 8000]


async def test_service_down_refuses_upgrades_and_tokens_with_503_open_sessions_go_on() -> None:
    async with run_emulator() as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as open_session:
            await recv_json(open_session)
            emulator.service_down()
            assert emulator.service_is_down
            with pytest.raises(InvalidStatus) as refused:
                async with open_ws(v3_url(emulator.url), AUTH):
                    pass
            assert refused.value.response.status_code == 503
            token = await http(
                f"{emulator.http_url}/v3/token?expires_in_seconds=60", headers=AUTH
            )
            assert (token.status, token.body) == (503, {"error": "Service Unavailable"})
            await open_session.send(json.dumps({"type": "Terminate"}))
            assert (await collect(open_session)).code == 1000
        emulator.service_up()
        async with open_ws(v3_url(emulator.url), AUTH) as after:
            assert (await recv_json(after))["type"] == "Begin"
    assert [r.refused for r in emulator.requests] == [None, "http-503", "http-503", None]
    assert emulator.sessions_started == 2


async def test_service_down_with_reset_resets_the_tcp_connection() -> None:
    async with run_emulator() as emulator:
        emulator.service_down(reset=True)
        with pytest.raises(InvalidMessage):  # websockets: no HTTP response at all
            async with open_ws(v3_url(emulator.url), AUTH):
                pass
        # On the socket itself it is a reset (RST), not an orderly close (FIN).
        reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
        writer.write(b"GET /v3/token?expires_in_seconds=5 HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(3):
                await reader.read()
        writer.close()
        emulator.service_up()
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            assert (await recv_json(ws))["type"] == "Begin"
    assert [r.refused for r in emulator.requests] == ["reset", "reset", None]


async def test_drop_all_aborts_every_open_session() -> None:
    async with run_emulator() as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as a, open_ws(
            v3_url(emulator.url), AUTH
        ) as b:
            await recv_json(a)
            await recv_json(b)
            assert emulator.drop_all() == 2
            outcomes = [await collect(a), await collect(b)]
        assert emulator.drop_all() == 0
        closed = await emulator.wait_sessions_closed_async(2)
    assert [o.code for o in outcomes] == [1006, 1006]
    assert [s.close_code for s in closed] == [1006, 1006]


def test_thread_controls_work_from_the_test_thread() -> None:
    with EmulatorThread() as emulator:
        url = f"{emulator.url}/v3/ws?sample_rate=16000"
        with sync_connect(url, additional_headers=AUTH, close_timeout=1) as ws:
            assert json.loads(ws.recv(timeout=3))["type"] == "Begin"
            ws.send(pcm(100))
            emulator.wait_until(lambda: emulator.audio_bytes_per_session == [3200])
            assert emulator.drop_all() == 1
            emulator.wait_sessions_closed(1, timeout=3)
        emulator.service_down()
        with pytest.raises(InvalidStatus):
            sync_connect(url, additional_headers=AUTH, open_timeout=3)
        emulator.service_up()
        with sync_connect(url, additional_headers=AUTH) as ws:
            assert json.loads(ws.recv(timeout=3))["type"] == "Begin"
        emulator.wait_sessions_started(2, timeout=3)
        assert emulator.sessions_started == 2
        assert emulator.sessions[0].close_code == 1006
