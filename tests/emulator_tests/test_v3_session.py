"""Happy-path v3 sessions: Begin, Turn stream, Terminate, ForceEndpoint, parameters."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest

from tests.emulator import (
    Emulator,
    EmulatorConfig,
    Recognizer,
    ScriptedRecognizer,
    SessionParams,
    TurnUpdate,
    run_emulator,
)

from .helpers import KEY, assert_turn_shape, collect, open_ws, pcm, recv_json, v3_url

AUTH = {"Authorization": KEY}
TERMINATE = json.dumps({"type": "Terminate"})


async def test_header_key_scripted_transcript(emulator: Emulator) -> None:
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        begin = await recv_json(ws)
        assert begin["type"] == "Begin"
        assert isinstance(begin["id"], str) and len(begin["id"]) == 36
        assert type(begin["expires_at"]) is int
        assert begin["expires_at"] > time.time() + 10000  # 3 h default session cap
        for _ in range(15):  # 1.5 s: "hello world this is a test" + its end of turn
            await ws.send(pcm(100))
        await ws.send(TERMINATE)
        outcome = await collect(ws)

    turns = outcome.of_type("Turn")
    for turn in turns:
        assert_turn_shape(turn)
    partials = [t for t in turns if not t["end_of_turn"]]
    assert [len(t["words"]) for t in partials] == [1, 2, 3, 4, 5, 6]
    for turn in partials:
        assert [w["word_is_final"] for w in turn["words"]][-1] is False
        assert all(w["word_is_final"] for w in turn["words"][:-1])
        assert turn["transcript"] == " ".join(w["text"] for w in turn["words"][:-1])
        assert turn["utterance"] == ""
    final = turns[-1]
    assert final["end_of_turn"] is True and final["turn_is_formatted"] is False
    assert final["transcript"] == final["utterance"] == "hello world this is a test"
    assert all(w["word_is_final"] for w in final["words"])
    assert {t["turn_order"] for t in turns} == {0}
    assert outcome.code == 1000
    assert outcome.messages[-1]["type"] == "Termination"

    [session] = await emulator.wait_sessions_closed_async()
    assert session.auth_method == "header-key"
    assert session.began and session.frames_received == 15
    assert session.audio_bytes_received == 15 * 3200
    assert session.close_code == 1000
    assert session.messages_sent == [begin, *outcome.messages]


async def test_terminate_flushes_turn_then_termination_then_1000() -> None:
    async with run_emulator(EmulatorConfig(terminate_flush_delay=0.2)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)  # Begin
            for _ in range(5):  # 500 ms: two words revealed, the turn is still open
                await ws.send(pcm(100))
            await ws.send(TERMINATE)
            outcome = await collect(ws)
    types = [m["type"] for m in outcome.messages]
    assert types[-2:] == ["Turn", "Termination"]
    last_turn = outcome.messages[-2]
    assert last_turn["end_of_turn"] is True
    assert last_turn["transcript"] == "hello world"
    termination = outcome.messages[-1]
    assert type(termination["audio_duration_seconds"]) is int
    assert type(termination["session_duration_seconds"]) is int
    assert termination["audio_duration_seconds"] == 0  # 0.5 s rounds to 0
    assert outcome.code == 1000


async def test_force_endpoint_ends_turn_and_rest_continues(emulator: Emulator) -> None:
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        for _ in range(5):
            await ws.send(pcm(100))
        await ws.send(json.dumps({"type": "ForceEndpoint"}))
        for _ in range(3):
            await ws.send(pcm(100))
        await ws.send(TERMINATE)
        outcome = await collect(ws)
    finals = [t for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert [(t["turn_order"], t["transcript"]) for t in finals] == [
        (0, "hello world"),
        (1, "this"),
    ]
    second_turn_words = [t["words"] for t in outcome.of_type("Turn") if t["turn_order"] == 1]
    # Words of the new turn start after the audio already received when it was forced.
    assert second_turn_words[0][0]["start"] >= 500


@pytest.mark.parametrize("value", ["True", "true", "TRUE"])
async def test_format_turns_two_messages(emulator: Emulator, value: str) -> None:
    async with open_ws(v3_url(emulator.url, f"sample_rate=16000&format_turns={value}"), AUTH) as ws:
        await recv_json(ws)
        for _ in range(15):
            await ws.send(pcm(100))
        await ws.send(TERMINATE)
        outcome = await collect(ws)
    finals = [t for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert [(t["turn_order"], t["turn_is_formatted"]) for t in finals] == [(0, False), (0, True)]
    assert finals[0]["transcript"] == "hello world this is a test"
    assert finals[1]["transcript"] == "Hello world this is a test."
    assert finals[1]["utterance"] == "Hello world this is a test."
    assert [w["text"] for w in finals[1]["words"]][::5] == ["Hello", "test."]
    for turn in finals:
        assert_turn_shape(turn)
    session = (await emulator.wait_sessions_closed_async())[0]
    assert session.params is not None and session.params.format_turns is True


@pytest.mark.parametrize("value", ["False", "false"])
async def test_format_turns_false_single_unformatted(emulator: Emulator, value: str) -> None:
    async with open_ws(v3_url(emulator.url, f"format_turns={value}"), AUTH) as ws:
        await recv_json(ws)
        for _ in range(15):
            await ws.send(pcm(100))
        await ws.send(TERMINATE)
        outcome = await collect(ws)
    finals = [t for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert [t["turn_is_formatted"] for t in finals] == [False]


async def test_format_turns_single_message_mode() -> None:
    config = EmulatorConfig(formatted_two_messages=False)
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url, "format_turns=true"), AUTH) as ws:
            await recv_json(ws)
            for _ in range(15):
                await ws.send(pcm(100))
            await ws.send(TERMINATE)
            outcome = await collect(ws)
    finals = [t for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert [(t["turn_is_formatted"], t["transcript"]) for t in finals] == [
        (True, "Hello world this is a test.")
    ]


async def test_second_turn_increments_turn_order(emulator: Emulator) -> None:
    async with open_ws(v3_url(emulator.url), AUTH) as ws:
        await recv_json(ws)
        for _ in range(6):  # 1 s frames: the whole default script and beyond
            await ws.send(pcm(1000))
        await ws.send(TERMINATE)
        outcome = await collect(ws)
    finals = [t for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert [t["turn_order"] for t in finals] == [0, 1, 2]
    assert finals[1]["transcript"] == "the quick brown fox jumps over the lazy dog"
    starts = [w["start"] for t in finals for w in t["words"]]
    assert starts == sorted(starts)


async def test_params_keyterms_and_unknown_params_and_headers(emulator: Emulator) -> None:
    terms = ["Live Transcriber", "AssemblyAI"]
    query = urlencode(
        {
            "sample_rate": 16000,
            "encoding": "pcm_s16le",
            "speech_model": "universal-streaming-english",
            "format_turns": True,
            "keyterms_prompt": json.dumps(terms),
            "end_of_turn_confidence_threshold": 0.7,
            "min_end_of_turn_silence_when_confident": 160,
            "max_turn_silence": 2400,
            "some_future_param": "x",
        }
    )
    headers = {**AUTH, "User-Agent": "AssemblyAI/1.0 (sdk=Python/1.8.2)"}
    headers["AssemblyAI-Version"] = "2025-05-12"
    async with open_ws(v3_url(emulator.url, query), headers) as ws:
        assert (await recv_json(ws))["type"] == "Begin"
        await ws.send(
            json.dumps({"type": "UpdateConfiguration", "max_turn_silence": 500, "foo": 1})
        )
        await ws.send(json.dumps({"type": "KeepAlive"}))
        await ws.send(TERMINATE)
        outcome = await collect(ws)
    assert [m["type"] for m in outcome.messages] == ["Termination"]  # no replies
    [session] = await emulator.wait_sessions_closed_async()
    assert session.params is not None and session.current_params is not None
    assert session.params.keyterms_prompt == tuple(terms)
    assert session.params.speech_model == "universal-streaming-english"
    assert session.params.end_of_turn_confidence_threshold == 0.7
    assert session.params.min_turn_silence == 160
    assert session.params.max_turn_silence == 2400
    assert session.current_params.max_turn_silence == 500
    request = session.request
    assert request.query["keyterms_prompt"] == [json.dumps(terms)]
    assert request.query["format_turns"] == ["True"]
    assert request.headers["assemblyai-version"] == "2025-05-12"
    assert request.headers["user-agent"].startswith("AssemblyAI/1.0")
    assert request.raw_target == f"/v3/ws?{query}"
    assert request.is_websocket and request in emulator.requests


async def test_audio_before_begin_is_accepted() -> None:
    async with run_emulator(EmulatorConfig(begin_delay=0.3)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            for _ in range(5):
                await ws.send(pcm(100))
            await ws.send(TERMINATE)
            outcome = await collect(ws)
    assert outcome.messages[0]["type"] == "Begin"
    assert outcome.messages[-1]["type"] == "Termination"
    assert [t["transcript"] for t in outcome.of_type("Turn") if t["end_of_turn"]] == ["hello world"]


async def test_token_session_cap_expires_with_3008(emulator: Emulator) -> None:
    token = emulator.issue_token(60, max_session_duration_seconds=1)
    started = asyncio.get_running_loop().time()
    async with open_ws(v3_url(emulator.url, f"token={token}")) as ws:
        begin = await recv_json(ws)
        assert begin["expires_at"] <= time.time() + 2
        outcome = await collect(ws)
    assert 0.9 < asyncio.get_running_loop().time() - started < 3
    assert outcome.code == 3008
    assert outcome.reason == "Session Expired: Maximum session duration exceeded"
    assert outcome.of_type("Error") == [
        {
            "type": "Error",
            "error_code": 3008,
            "error": "Session Expired: Maximum session duration exceeded",
        }
    ]


async def test_inactivity_timeout_and_keepalive(emulator: Emulator) -> None:
    loop = asyncio.get_running_loop()
    async with open_ws(v3_url(emulator.url, "inactivity_timeout=0.3"), AUTH) as ws:
        await recv_json(ws)
        started = loop.time()
        for _ in range(4):  # KeepAlive every 0.15 s holds the session open for ~0.6 s
            await ws.send(json.dumps({"type": "KeepAlive"}))
            await asyncio.sleep(0.15)  # pacing: a client idling in real time
        outcome = await collect(ws)
    assert loop.time() - started > 0.6
    assert outcome.code == 3005
    assert outcome.reason == "Session Cancelled: Inactivity timeout"


class _Exploding:
    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        raise RuntimeError("recogniser broke")

    def force_endpoint(self) -> list[TurnUpdate]:
        return []

    def finish(self) -> list[TurnUpdate]:
        return []


async def test_custom_recognizer_factory_gets_params() -> None:
    seen: list[SessionParams] = []

    def factory(params: SessionParams) -> Recognizer:
        seen.append(params)
        return ScriptedRecognizer(["custom words"], ms_per_word=100)

    async with run_emulator(EmulatorConfig(recognizer_factory=factory)) as emulator:
        async with open_ws(v3_url(emulator.url, "sample_rate=8000"), AUTH) as ws:
            await recv_json(ws)
            await ws.send(pcm(400, rate=8000))
            await ws.send(TERMINATE)
            outcome = await collect(ws)
    assert [p.sample_rate for p in seen] == [8000]
    finals = [t["transcript"] for t in outcome.of_type("Turn") if t["end_of_turn"]]
    assert finals == ["custom words"]


async def test_failing_recognizer_closes_3005() -> None:
    config = EmulatorConfig(recognizer_factory=lambda params: _Exploding())
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            await recv_json(ws)
            await ws.send(pcm(100))
            outcome = await collect(ws)
    assert (outcome.code, outcome.reason) == (3005, "Session Cancelled: An error occurred")


async def test_failing_recognizer_factory_closes_3005() -> None:
    def factory(params: SessionParams) -> Recognizer:
        raise RuntimeError("cannot load model")

    async with run_emulator(EmulatorConfig(recognizer_factory=factory)) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as ws:
            outcome = await collect(ws)
        [session] = await emulator.wait_sessions_closed_async()
    assert outcome.code == 3005
    assert [m["type"] for m in outcome.messages] == ["Error"]
    assert session.close_code == 3005
