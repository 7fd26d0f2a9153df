"""`python -m tests.emulator` and the thread-based helper."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import urllib.request
from pathlib import Path

from websockets.sync.client import connect as sync_connect

from tests.emulator import EmulatorConfig, EmulatorThread

from .helpers import KEY, collect, http, open_ws, pcm, recv_json

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.emulator",
        *args,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_prints_url_serves_and_exits_0_on_sigterm() -> None:
    process = await _spawn("--port", "0", "--api-key", "k")
    try:
        assert process.stdout is not None
        async with asyncio.timeout(10):
            line = (await process.stdout.readline()).decode()
        match = re.fullmatch(
            r"Emulator listening on (ws://127\.0\.0\.1:(\d+)) \(v3: /v3/ws, token: "
            r"(http://127\.0\.0\.1:\d+)/v3/token\)\n",
            line,
        )
        assert match, line
        result = await http(
            f"{match.group(3)}/v3/token?expires_in_seconds=5", headers={"Authorization": "k"}
        )
        assert result.status == 200
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            await process.wait()
    assert process.returncode == 0


async def test_cli_sigint_exits_0() -> None:
    process = await _spawn("--port", "0")
    assert process.stdout is not None
    async with asyncio.timeout(10):
        assert (await process.stdout.readline()).startswith(b"Emulator listening on ws://")
        process.send_signal(signal.SIGINT)
        await process.wait()
    assert process.returncode == 0


def test_emulator_thread_sync_session() -> None:
    with EmulatorThread(EmulatorConfig(api_keys=frozenset({KEY}))) as emulator:
        assert emulator.url.startswith("ws://127.0.0.1:")
        with sync_connect(
            f"{emulator.url}/v3/ws?sample_rate=16000", additional_headers={"Authorization": KEY}
        ) as ws:
            assert json.loads(ws.recv(timeout=3))["type"] == "Begin"
            for _ in range(5):
                ws.send(pcm(100))
            ws.send(json.dumps({"type": "Terminate"}))
            received = []
            while True:
                message = json.loads(ws.recv(timeout=3))
                received.append(message)
                if message["type"] == "Termination":
                    break
        [session] = emulator.wait_sessions_closed(1, timeout=3)
        assert session.close_code == 1000 and session.frames_received == 5
        assert received[-2]["transcript"] == "hello world"

        token = emulator.issue_token()
        emulator.expire_token(token)
        request = urllib.request.Request(
            f"{emulator.http_url}/v3/token?expires_in_seconds=10", headers={"Authorization": KEY}
        )
        with urllib.request.urlopen(request, timeout=3) as response:
            assert response.status == 200
        assert [r.path for r in emulator.requests] == ["/v3/ws", "/v3/token"]


def test_script_text_is_split_into_plain_sentences() -> None:
    from tests.emulator.__main__ import _sentences

    assert _sentences("Hello, World! How are you?|fine.") == (
        "hello world",
        "how are you",
        "fine",
    )


async def test_cli_script_text_and_legacy_codes() -> None:
    process = await _spawn("--port", "0", "--script-text", "Good morning.", "--legacy-codes")
    try:
        assert process.stdout is not None
        async with asyncio.timeout(10):
            line = (await process.stdout.readline()).decode()
        match = re.search(r"(ws://127\.0\.0\.1:\d+)", line)
        assert match, line
        async with open_ws(f"{match.group(1)}/v3/ws", {"Authorization": KEY}) as ws:
            await recv_json(ws)
            await ws.send(pcm(700))
            turns = [await recv_json(ws) for _ in range(3)]
            assert [t["end_of_turn"] for t in turns] == [False, False, True]
            assert turns[-1]["transcript"] == "good morning"
            await ws.send(pcm(10))
            outcome = await collect(ws)
        assert outcome.code == 3005
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            await process.wait()
    assert process.returncode == 0
