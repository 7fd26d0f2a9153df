"""Fault knobs and the coded recogniser from the command line, and a replay through the server."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tests.emulator import CodedRecognizer, EmulatorConfig, run_emulator
from tests.emulator.__main__ import _apply_faults, _parser
from tests.support.coded_speech import coded_words, make_coded_speech, word_spans

from .helpers import KEY, assert_turn_shape, collect, open_ws, recv_json, v3_url
from .test_cli_and_thread import PROJECT_ROOT, _spawn

AUTH = {"Authorization": KEY}
FRAME = 1600  # 50 ms

KNOBS = {
    "--fault-sessions": "2",
    "--begin-delay": "0.5",
    "--withhold-begin": None,
    "--close-after": "1.5",
    "--close-code": "1012",
    "--close-reason": "bye",
    "--no-error-frame": None,
    "--drop-after": "2.5",
    "--stall-after": "3.5",
    "--malformed-after": "4.5",
    "--oversized-after": "5.5",
    "--oversized-bytes": "7000000",
    "--repeat-begin-after": "6.5",
    "--termination-after": "7.5",
    "--key-echo-after": "8.5",
    "--surrogate-after": "9.5",
    "--expire-after": "10.5",
}


def test_help_lists_every_knob_with_what_it_reproduces() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--help"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30, check=True,
    )
    text = " ".join(result.stdout.split())
    for option in KNOBS:
        assert option in text
    assert "coded" in text and "1012 service restart" in text
    # Every timed fault says what it reproduces.
    assert text.count("(reproduces") >= 14


def test_every_knob_reaches_the_config() -> None:
    argv = [part for option, value in KNOBS.items() for part in (option, value) if part]
    config = EmulatorConfig()
    _apply_faults(config, _parser().parse_args(argv))
    assert config == EmulatorConfig(
        fault_sessions=2, begin_delay=0.5, withhold_begin=True, close_after=(1012, 1.5, "bye"),
        send_error_frame=False, drop_after=2.5, stall_after=3.5, malformed_after=4.5,
        oversized_after=5.5, oversized_bytes=7000000, repeat_begin_after=6.5,
        termination_after=7.5, key_echo_after=8.5, surrogate_after=9.5, expire_after=10.5,
    )


@pytest.mark.parametrize(
    ("code", "reason"),
    [("1011", "Internal Error"), ("1013", "Try Again Later"),
     ("3008", "Session Expired: Maximum session duration exceeded"), ("4002", "Closed (4002)")],
)
def test_close_code_alone_gets_its_documented_reason(code: str, reason: str) -> None:
    config = EmulatorConfig()
    _apply_faults(config, _parser().parse_args(["--close-after", "1", "--close-code", code]))
    assert config.close_after == (int(code), 1.0, reason)
    untouched = EmulatorConfig()
    _apply_faults(untouched, _parser().parse_args([]))
    assert untouched == EmulatorConfig()


@asynccontextmanager
async def cli_emulator(*args: str) -> AsyncIterator[str]:
    process = await _spawn("--port", "0", *args)
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        match = re.search(r"(ws://127\.0\.0\.1:\d+)", line)
        assert match, line
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    assert process.returncode == 0


def frames(audio: bytes) -> list[bytes]:
    """50 ms frames; a shorter tail joins the last frame (the service wants 50-1000 ms)."""
    chunks = [audio[offset : offset + FRAME] for offset in range(0, len(audio), FRAME)]
    if len(chunks) > 1 and len(chunks[-1]) < FRAME:
        chunks[-2:] = [chunks[-2] + chunks[-1]]
    return chunks


def final_words(messages: list[dict[str, Any]]) -> list[str]:
    ends = [m for m in messages if m.get("type") == "Turn" and m["end_of_turn"]]
    return [w["text"] for m in ends for w in m["words"]]


async def test_cli_fault_for_first_session_only_then_coded_words() -> None:
    sentences = [[7, 8, 9], [10, 11]]
    speech = make_coded_speech(sentences)
    args = ("--recognizer", "coded", "--close-after", "0.1", "--close-code", "1012",
            "--fault-sessions", "1")
    async with cli_emulator(*args) as url:
        async with open_ws(v3_url(url), AUTH) as first:
            outcome = await collect(first)
        assert [m["type"] for m in outcome.messages] == ["Begin"]
        assert (outcome.code, outcome.reason) == (1012, "Service Restart")
        async with open_ws(v3_url(url), AUTH) as second:
            await recv_json(second)
            for frame in frames(speech):
                await second.send(frame)
            await second.send(json.dumps({"type": "Terminate"}))
            outcome = await collect(second)
    assert outcome.code == 1000
    assert final_words(outcome.messages) == coded_words(sentences)


async def test_cli_accepts_all_knobs_at_once() -> None:
    run = {option: None if value is None else "30" for option, value in KNOBS.items()}
    run |= {"--fault-sessions": "1", "--close-after": "0.2", "--close-code": "1012",
            "--close-reason": "bye", "--oversized-bytes": "7000000"}
    args = [part for option, value in run.items() for part in (option, value) if part]
    async with cli_emulator("--recognizer", "coded", *args) as url:
        async with open_ws(v3_url(url), AUTH) as first:
            outcome = await collect(first)
        assert outcome.messages == []  # Begin withheld, then the restart close
        assert (outcome.code, outcome.reason) == (1012, "bye")
        async with open_ws(v3_url(url), AUTH) as second:
            assert (await recv_json(second))["type"] == "Begin"  # no fault any more
        async with open_ws(v3_url(url, "sample_rate=16000&encoding=pcm_mulaw"), AUTH) as third:
            outcome = await collect(third)
        assert outcome.code == 3005  # the coded recogniser reads pcm_s16le only


async def test_replay_after_a_drop_mid_sentence_gives_every_word_once() -> None:
    """What a reconnecting client sees: sentence 1 ended in session 1; the TCP drops in the
    middle of sentence 2; session 2 gets the audio again from sentence 2's first word."""
    sentences = [[100, 101], [102, 103, 104], [105]]
    speech = make_coded_speech(sentences)
    spans = word_spans(sentences)
    config = EmulatorConfig(recognizer_factory=lambda params: CodedRecognizer(params.sample_rate))
    async with run_emulator(config) as emulator:
        async with open_ws(v3_url(emulator.url), AUTH) as first:
            await recv_json(first)
            cut = (spans[3][0] + spans[3][1]) // 2 * 2 // FRAME * FRAME  # bytes: inside "n103"
            for frame in frames(speech[:cut]):
                await first.send(frame)
            received: list[dict[str, Any]] = []
            while not any(m.get("end_of_turn") for m in received):
                received.append(await recv_json(first))
            await emulator.wait_until_async(lambda: emulator.audio_bytes_per_session == [cut])
            assert emulator.drop_all() == 1
            outcome = await collect(first)
        assert outcome.code == 1006
        replay_from = (spans[2][0] - 1600) * 2  # 100 ms before sentence 2
        async with open_ws(v3_url(emulator.url), AUTH) as second:
            await recv_json(second)
            for frame in frames(speech[replay_from:]):
                await second.send(frame)
            await second.send(json.dumps({"type": "Terminate"}))
            replayed = await collect(second)
    assert final_words(received) == ["n100", "n101"]
    assert final_words(received) + final_words(replayed.messages) == coded_words(sentences)
    assert emulator.audio_bytes_per_session == [cut, len(speech) - replay_from]
    turns = received + replayed.of_type("Turn")
    for turn in turns:
        assert_turn_shape(turn)
    assert [t["turn_order"] for t in replayed.of_type("Turn") if t["end_of_turn"]] == [0, 1]
    # Times are of each session's own audio: the replay starts again near 0.
    first_replayed = replayed.of_type("Turn")[0]["words"][0]
    assert first_replayed["text"] == "n102" and first_replayed["start"] <= 110
