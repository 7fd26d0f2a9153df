"""The emulator's real recogniser: the app's offline transcriber behind the Recognizer protocol,
so the cloud path (streaming client → WebSocket → emulator) runs on words really heard."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import pytest

from app.core.config import StreamingParams, endpoints_for
from app.core.messages import Turn
from app.core.ports import EngineEvent
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.offline.model import WhisperModelLoader, WhisperRecogniser
from tests.emulator import EmulatorConfig, TurnUpdate, run_emulator
from tests.emulator.recognizers import OfflineRecognizer
from tests.support.speech import load_fixture, word_error_rate

KEY = "offline-key"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FRAME = 1600  # 50 ms, as the app sends


@pytest.fixture(scope="session")
def recogniser() -> WhisperRecogniser:
    return WhisperModelLoader().load_blocking()


def test_updates_follow_the_protocol(recogniser: WhisperRecogniser) -> None:
    hello = load_fixture("hello")
    pcm = hello.pcm + bytes(32_000)
    recognizer = OfflineRecognizer(recogniser)
    updates: list[TurnUpdate] = []
    for offset in range(0, len(pcm), FRAME):
        updates += recognizer.feed(pcm[offset:offset + FRAME], (offset + FRAME) // 32)
    ended = [u for u in updates if u.end_of_turn]
    assert len(ended) == 1 and updates[-1] is ended[0]  # the silence ended the turn
    assert not updates[0].end_of_turn  # partials came first
    text = " ".join(w.text for w in ended[0].words)
    assert word_error_rate([hello.reference], [text]) <= 0.15
    assert all(w.is_final for w in ended[0].words)
    assert all(0 <= w.start_ms <= w.end_ms <= len(pcm) // 32 for w in ended[0].words)
    assert recognizer.finish() == []  # nothing left
    # A forced endpoint ends the turn in progress.
    for offset in range(0, len(hello.pcm), FRAME):
        recognizer.feed(hello.pcm[offset:offset + FRAME], 0)
    (forced,) = recognizer.force_endpoint()
    assert forced.end_of_turn and forced.words


async def test_the_streaming_client_gets_real_words(recogniser: WhisperRecogniser) -> None:
    weather = load_fixture("weather")
    config = EmulatorConfig(api_keys=frozenset({KEY}),
                            recognizer_factory=lambda params: OfflineRecognizer(recogniser))
    events: list[EngineEvent] = []
    async with run_emulator(config) as emu:
        # Whisper decodes the whole clip at Terminate inside this process: on a loaded
        # machine that can take longer than the service's usual few seconds.
        session = StreamingSession(endpoints_for(override=emu.url), KEY,
                                   StreamingParams(format_turns=False), events.append,
                                   options=StreamingOptions(terminate_timeout=60))
        await session.start()
        session.send_audio(bytes(9600) + weather.pcm)  # no trailing silence: stop flushes
        await session.stop()
        (record,) = await emu.wait_sessions_closed_async(1)
    assert session.error is None and record.close_code == 1000
    turns = [e for e in events if isinstance(e, Turn)]
    finals = [t.transcript for t in turns if t.end_of_turn]
    assert len(finals) == 1 and not turns[0].end_of_turn
    assert word_error_rate([weather.reference], finals) <= 0.15


async def test_cli_serves_the_offline_recogniser() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.emulator", "--port", "0", "--recognizer", "offline",
        cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):  # verifies and loads the model first
            line = (await process.stdout.readline()).decode()
        assert re.match(r"Emulator listening on ws://127\.0\.0\.1:\d+ ", line), line
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            await process.wait()
    assert process.returncode == 0
