"""AssemblyAI's own Python SDK (``assemblyai`` 1.8.2) against the emulator.

If the official client works unchanged — its query encoding (``True``/``False``), headers,
pre-``Begin`` audio, pydantic validation of every field type, ``Terminate`` handling and its
close-code table — the emulator is faithful to what real clients need (PROTOCOL.md §10).
The SDK's client is synchronous (threads), so the emulator runs on its own thread here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from assemblyai.streaming.v3 import (
    BeginEvent,
    StreamingClient,
    StreamingClientOptions,
    StreamingError,
    StreamingEvents,
    StreamingParameters,
    TerminationEvent,
    TurnEvent,
)

from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer

KEY = "sdk-test-key"
SCRIPT = ("hello from the official client", "second turn here")


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=100),
    )
    with EmulatorThread(config) as emu:
        yield emu


class Collected:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.errors: list[StreamingError] = []
        self.done = threading.Event()

    def attach(self, client: StreamingClient) -> None:
        client.on(StreamingEvents.Begin, lambda _c, ev: self.events.append(ev))
        client.on(StreamingEvents.Turn, lambda _c, ev: self.events.append(ev))
        client.on(StreamingEvents.Termination, self._terminated)
        client.on(StreamingEvents.Error, self._error)

    def _terminated(self, _client: StreamingClient, event: TerminationEvent) -> None:
        self.events.append(event)
        self.done.set()

    def _error(self, _client: StreamingClient, error: StreamingError) -> None:
        self.errors.append(error)
        self.done.set()


def params(**fields: object) -> StreamingParameters:
    # model_validate: the pydantic model's optional fields confuse mypy's constructor check.
    return StreamingParameters.model_validate(fields)


def audio(ms: int) -> list[bytes]:
    return [b"\x10\x02" * 16 * 100 for _ in range(ms // 100)]  # 100 ms chunks, as the SDK's


def test_official_sdk_streams_with_its_key_header(emulator: EmulatorThread) -> None:
    client = StreamingClient(StreamingClientOptions(api_key=KEY, api_host=emulator.url))
    got = Collected()
    got.attach(client)
    client.connect(params(sample_rate=16000, format_turns=True,
                          keyterms_prompt=["Live Transcriber"]))
    client.stream(audio(1200))  # sent as fast as the SDK writes: well inside the rate rule
    client.disconnect(terminate=True)
    assert got.done.wait(5)
    assert got.errors == []
    assert isinstance(got.events[0], BeginEvent)
    assert isinstance(got.events[-1], TerminationEvent)
    formatted = [ev.transcript for ev in got.events
                 if isinstance(ev, TurnEvent) and ev.end_of_turn and ev.turn_is_formatted]
    assert formatted[0] == "Hello from the official client."
    (session,) = emulator.wait_sessions_closed(1)
    assert session.auth_method == "header-key"
    assert session.params is not None and session.params.format_turns is True
    assert session.params.keyterms_prompt == ("Live Transcriber",)
    assert KEY not in session.request.raw_target


def test_official_sdk_with_a_temporary_token_in_its_header(emulator: EmulatorThread) -> None:
    token = emulator.issue_token(expires_in_seconds=60)
    client = StreamingClient(StreamingClientOptions(token=token, api_host=emulator.url))
    got = Collected()
    got.attach(client)
    client.connect(params(sample_rate=16000))
    client.stream(audio(300))
    client.disconnect(terminate=True)
    assert got.done.wait(5) and got.errors == []
    (session,) = emulator.wait_sessions_closed(1)
    assert session.auth_method == "header-token"


def test_official_sdk_sees_a_rejected_key_as_an_error(emulator: EmulatorThread) -> None:
    client = StreamingClient(StreamingClientOptions(api_key="wrong", api_host=emulator.url))
    got = Collected()
    got.attach(client)
    client.connect(params(sample_rate=16000))
    assert got.done.wait(5)
    client.disconnect()
    assert got.errors, "the SDK must report the 1008 rejection"
    assert "Unauthorized Connection" in str(got.errors[0])
