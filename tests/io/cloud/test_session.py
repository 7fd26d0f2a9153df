"""The streaming client against the local emulator, on loopback only.

Each test drives a real ``StreamingSession`` over a real WebSocket to ``tests.emulator`` and
checks what the client reported and what the emulator received.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from app.core import errors as e
from app.core.audio import FRAME_BYTES, WIRE_FRAME_MS
from app.core.config import AuthMode, Endpoints, StreamingParams, endpoints_for
from app.core.messages import Begin, Termination, Turn
from app.core.ports import EngineEvent, KeyStatus, SessionFailed, StateChanged
from app.core.session import SessionState
from app.io.cloud import session as streaming
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.cloud.tokens import validate_key
from tests.emulator import Emulator, EmulatorConfig, ScriptedRecognizer, run_emulator

KEY = "test-key-0123456789abcdef0123456789"
SCRIPT = ("hello this is a test", "the weather is sunny today")
FAST = StreamingOptions(connect_timeout=5, begin_timeout=2, terminate_timeout=3)


@dataclass
class SessionEvents:
    """The session's event sink: keeps everything the owner would see."""

    events: list[EngineEvent] = field(default_factory=list)
    _reached: dict[SessionState, asyncio.Event] = field(default_factory=dict)

    def __call__(self, event: EngineEvent) -> None:
        self.events.append(event)
        if isinstance(event, StateChanged):
            self.reached(event.new).set()

    def reached(self, state: SessionState) -> asyncio.Event:
        return self._reached.setdefault(state, asyncio.Event())

    @property
    def turns(self) -> list[Turn]:
        return [ev for ev in self.events if isinstance(ev, Turn)]

    @property
    def finals(self) -> list[str]:
        return [t.transcript for t in self.turns if t.end_of_turn and not t.turn_is_formatted]

    def failures(self) -> list[e.LiveTranscriberError]:
        return [ev.error for ev in self.events if isinstance(ev, SessionFailed)]

    def states(self) -> list[SessionState]:
        return [ev.new for ev in self.events if isinstance(ev, StateChanged)]


def config(**overrides: object) -> EmulatorConfig:
    base: dict[str, object] = {
        "api_keys": frozenset({KEY}),
        "recognizer_factory": lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=100),
    }
    base.update(overrides)
    return EmulatorConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with run_emulator(config()) as emu:
        yield emu


def endpoints(emu: Emulator) -> Endpoints:
    return endpoints_for(override=emu.url)


def session_for(emu: Emulator, recorder: SessionEvents, *, key: str = KEY,
                auth_mode: AuthMode = AuthMode.HEADER,
                params: StreamingParams | None = None,
                options: StreamingOptions = FAST) -> StreamingSession:
    return StreamingSession(endpoints(emu), key, params or StreamingParams(format_turns=False),
                            recorder, auth_mode=auth_mode, options=options)


def speech(ms: int) -> bytes:
    """Non-silent 16 kHz s16le audio of ``ms`` milliseconds (the scripted recogniser counts
    audio time, not content)."""
    return (b"\x10\x02" * (16 * ms))


async def stream(session: StreamingSession, ms: int, *, piece_ms: int = 50) -> None:
    for _ in range(ms // piece_ms):
        session.send_audio(speech(piece_ms))
        await asyncio.sleep(piece_ms / 1000 / 4)  # pacing: 4x real time, well inside the limit


# --- the happy paths --------------------------------------------------------------------------


async def test_header_auth_streams_and_keeps_the_last_words(emulator: Emulator) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec)
    await session.start()
    assert rec.states()[-1] is SessionState.STREAMING
    assert session.session_id
    # 1.5 s of audio at 100 ms per word: the first sentence (5 words) ends, the second is
    # half-way through when we stop.
    await stream(session, 1500)
    await session.stop()
    await session.wait_closed()

    assert session.state is SessionState.CLOSED
    assert isinstance(rec.events[2], Begin)  # right after the change to STREAMING
    assert isinstance(rec.events[-2], Termination)  # then the CLOSED state change
    assert rec.finals[0] == SCRIPT[0]
    # The second sentence was cut by Stop: Terminate flushed what had been said so far.
    assert len(rec.finals) == 2 and SCRIPT[1].startswith(rec.finals[1])
    assert len(rec.finals[1].split()) >= 3
    partials = [t for t in rec.turns if not t.end_of_turn]
    assert partials and partials[0].turn_order == 0
    assert rec.states() == [SessionState.CONNECTING, SessionState.STREAMING,
                            SessionState.STOPPING, SessionState.CLOSED]
    assert rec.failures() == []

    (recorded,) = await emulator.wait_sessions_closed_async(1)
    assert recorded.auth_method == "header-key"
    assert recorded.audio_bytes_received == 1500 * 32
    # 50 ms pieces in, one message per 100 ms out: a socket write costs more than its bytes.
    assert recorded.frames_received == 1500 // WIRE_FRAME_MS
    assert recorded.text_messages_received == ['{"type":"Terminate"}']
    assert recorded.close_code == 1000


async def test_a_message_leaves_at_once_when_nothing_waits_before_it(
    emulator: Emulator,
) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec)
    await session.start()
    session.send_audio(speech(100))
    for _ in range(10_000):  # loop passes, not a wait in time: the writer settles after Begin
        if session.sent_frames == 1:
            break
        await asyncio.sleep(0)
    for sent in range(2, 6):
        session.send_audio(speech(100))
        # On the socket before this coroutine yields: no loop pass for the writer task.
        assert session.sent_frames == sent
    await session.stop()
    await session.wait_closed()
    assert session.state is SessionState.CLOSED and rec.failures() == []
    (recorded,) = await emulator.wait_sessions_closed_async(1)
    assert recorded.frames_received == 5 and recorded.audio_bytes_received == 500 * 32
    assert recorded.text_messages_received == ['{"type":"Terminate"}']


async def test_the_last_words_go_as_a_short_message_of_at_least_50_ms(
    emulator: Emulator,
) -> None:
    """Stop sends what is left of the last 100 ms message as it is, padded with silence only
    up to the 50 ms the service accepts at least (it closes on a shorter message)."""
    for index, (total_ms, tail_ms) in enumerate(((1270, 70), (1230, 50))):
        session = session_for(emulator, SessionEvents())
        await session.start()
        await stream(session, total_ms - total_ms % 10, piece_ms=10)
        await session.stop()
        await session.wait_closed()
        assert session.state is SessionState.CLOSED and session.error is None
        recorded = (await emulator.wait_sessions_closed_async(index + 1))[-1]
        assert recorded.frames_received == total_ms // WIRE_FRAME_MS + 1
        assert recorded.audio_bytes_received == (total_ms // 100 * 100 + tail_ms) * 32
        assert recorded.close_code == 1000


async def test_token_auth_mints_a_token_and_never_sends_the_key_in_a_url(
    emulator: Emulator,
) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec, auth_mode=AuthMode.TOKEN)
    await session.start()
    await stream(session, 300)
    await session.stop()
    await session.wait_closed()

    token_requests = [r for r in emulator.requests if r.path == "/v3/token"]
    upgrades = [r for r in emulator.requests if r.path == "/v3/ws"]
    assert len(token_requests) == 1 and len(upgrades) == 1
    assert token_requests[0].headers["authorization"] == KEY
    assert "token" in upgrades[0].query
    assert "authorization" not in upgrades[0].headers
    (recorded,) = await emulator.wait_sessions_closed_async(1)
    assert recorded.auth_method == "query-token"
    for request in emulator.requests:
        assert KEY not in request.raw_target


async def test_the_key_travels_only_in_the_authorization_header(emulator: Emulator) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec,
                          params=StreamingParams(keyterms_prompt=("Live Transcriber",)))
    await session.start()
    await session.stop()
    (upgrade,) = [r for r in emulator.requests if r.path == "/v3/ws"]
    assert upgrade.headers["authorization"] == KEY
    assert KEY not in upgrade.raw_target
    assert all(KEY not in value for name, value in upgrade.headers.items()
               if name != "authorization")
    assert upgrade.query["sample_rate"] == ["16000"]
    assert upgrade.query["keyterms_prompt"] == ['["Live Transcriber"]']


async def test_audio_sent_before_begin_is_buffered_and_delivered() -> None:
    async with run_emulator(config(begin_delay=0.3)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec)
        starting = asyncio.create_task(session.start())
        await asyncio.wait_for(rec.reached(SessionState.CONNECTING).wait(), 2)
        for _ in range(8):
            session.send_audio(speech(50))
        await starting
        await session.stop()
        await session.wait_closed()
        (recorded,) = await emu.wait_sessions_closed_async(1)
        assert recorded.audio_bytes_received == 8 * FRAME_BYTES
        assert session.dropped_frames == 0


async def test_formatted_turns_arrive_in_the_two_message_form(emulator: Emulator) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec, params=StreamingParams(format_turns=True))
    await session.start()
    await stream(session, 700)
    await session.stop()
    ends = [t for t in rec.turns if t.end_of_turn and t.turn_order == 0]
    assert [t.turn_is_formatted for t in ends] == [False, True]
    assert ends[1].transcript[0].isupper() and ends[1].transcript.endswith(".")


# --- refusals and failures ------------------------------------------------------------------


async def test_rejected_key_is_an_auth_error_with_the_service_reason(emulator: Emulator) -> None:
    rec = SessionEvents()
    session = session_for(emulator, rec, key="wrong-key")
    with pytest.raises(e.AuthError) as info:
        await session.start()
        await session.wait_closed()
    assert info.value.code == 1008
    assert "Unauthorized Connection" in info.value.detail
    assert session.state is SessionState.FAILED
    assert rec.failures() == [info.value]  # reported exactly once
    assert "wrong-key" not in str(info.value)


async def test_rejected_key_in_token_mode_fails_at_the_token_endpoint(emulator: Emulator) -> None:
    session = session_for(emulator, SessionEvents(), key="wrong-key", auth_mode=AuthMode.TOKEN)
    with pytest.raises(e.AuthError) as info:
        await session.start()
    assert info.value.code == 401
    assert not [r for r in emulator.requests if r.path == "/v3/ws"]


async def test_expired_token_is_rejected(emulator: Emulator,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    token = emulator.issue_token(expires_in_seconds=60)
    emulator.expire_token(token)

    async def stale_token(*_args: object, **_kwargs: object) -> str:
        return token

    monkeypatch.setattr(streaming, "fetch_temporary_token", stale_token)
    session = session_for(emulator, SessionEvents(), auth_mode=AuthMode.TOKEN)
    with pytest.raises(e.AuthError) as info:
        await session.start()
        await session.wait_closed()
    assert info.value.code == 1008
    assert token not in str(info.value) and token not in info.value.detail


async def test_original_failure_v2_not_authorized_4001_is_explained(emulator: Emulator) -> None:
    """The v2 path answers a bare {"error": "Not authorized"} and closes 4001."""
    v2 = Endpoints(f"{emulator.url}/v2/realtime/ws", f"{emulator.http_url}/v3/token")
    session = StreamingSession(v2, "not-a-valid-key", StreamingParams(), SessionEvents(),
                               options=FAST)
    with pytest.raises(e.AuthError) as info:
        await session.start()
        await session.wait_closed()
    assert info.value.code == 4001
    assert info.value.detail == "Not authorized"
    assert "Settings" in info.value.remedy


CLOSES = [
    (1008, "Unauthorized Connection: insufficient balance", e.AccountError),
    (3005, "Session Cancelled: An error occurred", e.ServerError),
    (3006, "Invalid Message Type: Foo", e.ClientMessageError),
    (3007, "Input duration violation: 20 ms. Expected between 50 and 1000 ms",
     e.AudioRejectedError),
    (3008, "Session Expired: Maximum session duration exceeded", e.SessionExpiredError),
    (3009, "Unauthorized Connection: Too many concurrent sessions", e.RateLimitError),
    (1013, "Temporary server condition", e.ServerError),
    (4001, "Not Authorized", e.AuthError),
    (4002, "Insufficient Funds", e.AccountError),
    (4003, "This feature is paid-only", e.AccountError),
    (4008, "Session Expired", e.SessionExpiredError),
    (4029, "Client sent audio too fast", e.AudioRejectedError),
    (4031, "Session idle for too long", e.SessionLostError),
    (4102, "Too many streams", e.RateLimitError),
]


@pytest.mark.parametrize("error_frame", [True, False], ids=["error-frame", "close-only"])
@pytest.mark.parametrize(("code", "reason", "kind"), CLOSES, ids=[str(c[0]) for c in CLOSES])
async def test_each_close_code_becomes_its_typed_error(
    code: int, reason: str, kind: type[e.LiveTranscriberError], error_frame: bool
) -> None:
    async with run_emulator(config(close_after=(code, 0.05, reason),
                                   send_error_frame=error_frame)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec)
        await session.start()
        with pytest.raises(kind) as info:
            await session.wait_closed()
        assert info.value.code == code
        assert info.value.detail.startswith(reason[:40])
        assert rec.failures() == [info.value]
        await session.stop()  # after a failure, stop is a harmless no-op


async def test_legacy_3005_is_refined_by_its_reason() -> None:
    async with run_emulator(config(legacy_codes=True)) as emu:
        session = session_for(emu, SessionEvents())
        await session.start()
        # A 20 ms frame breaks the 50-1000 ms rule; the legacy service closes 3005.
        ws = session._ws  # noqa: SLF001 - reach the socket to send what the client never would
        assert ws is not None
        await ws.send(b"\x00" * 640)
        with pytest.raises(e.AudioRejectedError) as info:
            await session.wait_closed()
        assert info.value.code == 3005


async def test_begin_timeout() -> None:
    async with run_emulator(config(withhold_begin=True)) as emu:
        options = StreamingOptions(connect_timeout=5, begin_timeout=0.3, terminate_timeout=1)
        session = session_for(emu, SessionEvents(), options=options)
        with pytest.raises(e.ConnectionFailedError, match="did not start the session"):
            await session.start()
        assert session.state is SessionState.FAILED


async def test_malformed_server_message_fails_cleanly_and_keeps_earlier_turns() -> None:
    async with run_emulator(config(malformed_after=0.4)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec)
        await session.start()
        await stream(session, 400)
        with pytest.raises(e.ProtocolError) as info:
            await session.wait_closed()
        assert info.value.retryable
        assert rec.turns, "turns received before the bad frame must reach the owner"
        await session.stop()


async def test_dropped_connection_is_a_retryable_connection_failure() -> None:
    async with run_emulator(config(drop_after=0.2)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec)
        await session.start()
        await stream(session, 300)
        with pytest.raises(e.ConnectionFailedError) as info:
            await session.wait_closed()
        assert info.value.code == 1006 and info.value.retryable
        await session.stop()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_service() -> None:
    dead = endpoints_for(override=f"ws://127.0.0.1:{_closed_port()}")
    session = StreamingSession(dead, KEY, StreamingParams(), SessionEvents(), options=FAST)
    with pytest.raises(e.ConnectionFailedError, match="Nothing accepted the connection at 127"):
        await session.start()


async def test_http_refusal_of_the_upgrade_is_typed(emulator: Emulator) -> None:
    wrong_path = Endpoints(f"{emulator.url}/nowhere", f"{emulator.http_url}/v3/token")
    session = StreamingSession(wrong_path, KEY, StreamingParams(), SessionEvents(), options=FAST)
    with pytest.raises(e.LiveTranscriberError) as info:
        await session.start()
        await session.wait_closed()
    # A 404 on the upgrade is neither a key nor an account problem: a wrong address.
    assert type(info.value) is e.ConnectionFailedError
    assert info.value.code == 404
    assert str(info.value) == ("AssemblyAI answered with an unexpected HTTP status 404. "
                               "Check the service address and your network, then try again.")
    assert KEY not in str(info.value) and KEY not in info.value.detail


async def test_stop_while_connecting_waits_for_begin_then_terminates() -> None:
    async with run_emulator(config(begin_delay=0.2)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec)
        starting = asyncio.create_task(session.start())
        await asyncio.wait_for(rec.reached(SessionState.CONNECTING).wait(), 2)
        session.send_audio(speech(100))
        await session.stop()
        await starting
        assert session.state is SessionState.CLOSED
        (recorded,) = await emu.wait_sessions_closed_async(1)
        assert recorded.audio_bytes_received == 100 * 32
        assert any(isinstance(ev, Termination) for ev in rec.events)


# --- secrets ------------------------------------------------------------------------------


async def test_key_never_reaches_a_log_line(emulator: Emulator,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for mode in AuthMode:
        session = session_for(emulator, SessionEvents(), auth_mode=mode)
        await session.start()
        await stream(session, 200)
        await session.stop()
    bad = session_for(emulator, SessionEvents(), key="bad-" + KEY)
    with pytest.raises(e.AuthError):
        await bad.start()
        await bad.wait_closed()
    # The emulator stands in for the service; its own log is not the app's.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "> Authorization: [redacted]" in ours, "the client's request headers are logged"
    assert KEY not in ours
    tokens = [q for r in emulator.requests for q in r.query.get("token", [])]
    assert tokens and all(token not in ours for token in tokens)


async def test_a_service_that_echoes_the_key_never_gets_a_piece_of_it_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """websockets shortens long frames in its debug log: the cut may keep only the start or
    the end of the key, which must be redacted too."""
    caplog.set_level(logging.DEBUG)
    async with run_emulator(config(key_echo_after=0.2)) as emu:
        session = session_for(emu, SessionEvents())
        await session.start()
        with pytest.raises(e.LiveTranscriberError) as failed:
            await session.wait_closed()
        await session.stop()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "credential" in ours, "the echoed frame was logged (redacted)"
    texts = [ours, str(failed.value), failed.value.detail]
    for length in range(8, len(KEY) + 1):
        for fragment in (KEY[:length], KEY[-length:]):
            assert all(fragment not in text for text in texts), fragment


@pytest.mark.parametrize(("fault", "kind", "code"), [
    ({"oversized_after": 0.2}, e.ProtocolError, 1009),
    ({"close_after": (1012, 0.2, "Service Restart")}, e.ServerError, 1012),
    ({"drop_after": 0.2}, e.ConnectionFailedError, 1006),
])
async def test_each_way_a_session_ends_has_its_own_words(
    fault: dict[str, object], kind: type[e.LiveTranscriberError], code: int,
) -> None:
    async with run_emulator(config(**fault)) as emu:
        session = session_for(emu, SessionEvents())
        await session.start()
        with pytest.raises(e.LiveTranscriberError) as failed:
            await session.wait_closed()
        await session.stop()
    assert type(failed.value) is kind and failed.value.code == code
    assert failed.value.retryable
    assert ("internet" in str(failed.value)) is (kind is e.ConnectionFailedError)


# --- key validation --------------------------------------------------------------------------


async def test_validate_key(emulator: Emulator) -> None:
    token_url = endpoints(emulator).token_url
    assert (await validate_key(token_url, KEY)).status is KeyStatus.VALID
    rejected = await validate_key(token_url, "nope")
    assert rejected.status is KeyStatus.REJECTED and isinstance(rejected.error, e.AuthError)
    assert (await validate_key(token_url, "  ")).status is KeyStatus.REJECTED
    dead = f"http://127.0.0.1:{_closed_port()}/v3/token"
    unreachable = await validate_key(dead, KEY, socket_timeout=2)
    assert unreachable.status is KeyStatus.UNREACHABLE
    assert isinstance(unreachable.error, e.ConnectionFailedError)
    minted = [r for r in emulator.requests if r.path == "/v3/token"]
    assert minted[0].query["expires_in_seconds"] == ["1"]


MALFORMED = ["line\nbreak-SECRETKEY", "nul\x00-SECRETKEY", "ünïcode-SECRETKEY",
             "x" * 600 + "SECRETKEY", "spa ce-SECRETKEY"]


@pytest.mark.parametrize("key", MALFORMED, ids=["newline", "nul", "non-ascii", "huge", "space"])
async def test_a_malformed_key_is_refused_before_it_goes_anywhere(
    emulator: Emulator, key: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """HTTP libraries refuse such header values with exceptions that quote them; the key must
    be turned away first, in words that never contain it."""
    caplog.set_level(logging.DEBUG)
    for mode in AuthMode:
        session = session_for(emulator, SessionEvents(), key=key, auth_mode=mode)
        with pytest.raises(e.AuthError) as info:
            await session.start()
        assert "SECRETKEY" not in str(info.value) and "SECRETKEY" not in repr(info.value)
        assert "dashboard" in info.value.remedy
    check = await validate_key(endpoints(emulator).token_url, key)
    assert check.status is KeyStatus.REJECTED and check.error is not None
    assert "SECRETKEY" not in str(check.error)
    assert not emulator.requests, "nothing was sent"
    assert "SECRETKEY" not in caplog.text
