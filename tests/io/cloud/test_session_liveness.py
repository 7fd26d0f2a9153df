"""A connection that goes silent — a black-holed route or a hung server: the socket stays open
but nothing comes back, not even a reply to a ping — is noticed within seconds and ends the
session with a plain, retryable error, so the recorder's reconnect path takes over.

The emulator's ``stall_after`` fault freezes the server side of the socket: nothing is read
(not even pings), nothing is sent, nothing closes it.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core import errors as e
from app.core.config import StreamingParams, endpoints_for
from app.core.session import SessionState
from app.io.cloud.session import StreamingOptions, StreamingSession
from tests.emulator import CodedRecognizer, run_emulator
from tests.emulator.throttle import throttled_link
from tests.io.cloud.test_session import KEY, SessionEvents, config, session_for, speech, stream

# Only the timeouts of the test module; the liveness settings are the defaults the app uses.
OPTIONS = StreamingOptions(connect_timeout=5, begin_timeout=2, terminate_timeout=3)
# websockets' own keepalive (20 s ping interval, 20 s timeout, then the close timeout) would
# take 45 s; this guard only stops a hang.
HANG_GUARD_S = 30.0


async def _keep_streaming(session: StreamingSession) -> None:
    while session.state.is_active:
        session.send_audio(speech(50))
        await asyncio.sleep(0.05)  # audio paced in real time, as a microphone delivers it


async def test_a_server_that_stops_answering_ends_the_session_plainly() -> None:
    async with run_emulator(config(stall_after=0.3)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec, options=OPTIONS)
        await session.start()
        feeding = asyncio.create_task(_keep_streaming(session))
        with pytest.raises(e.ConnectionFailedError) as info:
            await asyncio.wait_for(session.wait_closed(), HANG_GUARD_S)
        await feeding
        await session.stop()
        stalled = emu.sessions[0].stalled
    assert stalled
    assert info.value.retryable
    assert "stopped answering" in info.value.message
    assert KEY not in str(info.value) and KEY not in info.value.message
    assert rec.failures() == [info.value]  # reported once, through the sink
    assert session.state is SessionState.FAILED


async def test_a_server_that_stops_answering_during_stop_ends_it_plainly() -> None:
    """Stop sends Terminate into the silence: it ends with the plain error rather than
    waiting out the full Begin + Terminate timeouts of a live but slow service."""
    options = StreamingOptions(connect_timeout=5, begin_timeout=20, terminate_timeout=20)
    async with run_emulator(config(stall_after=0.2)) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec, options=options)
        await session.start()
        await stream(session, 100)
        await emu.wait_until_async(lambda: emu.sessions[0].stalled)
        await asyncio.wait_for(session.stop(), HANG_GUARD_S)
    assert session.state is SessionState.FAILED
    assert session.error is not None and "stopped answering" in session.error.message


async def test_a_starved_event_loop_is_not_taken_for_a_dead_link() -> None:
    """The app's own loop blocked for longer than the silence limit (a loaded machine): the
    service's answers are waiting in the socket, so the link is alive and the session goes on."""
    options = StreamingOptions(connect_timeout=5, begin_timeout=2, terminate_timeout=3,
                               ping_interval=0.2, silence_timeout=0.6)
    async with run_emulator(config()) as emu:
        rec = SessionEvents()
        session = session_for(emu, rec, options=options)
        await session.start()
        await stream(session, 200)
        time.sleep(1.5)  # noqa: ASYNC251 -- the point: nothing on this loop runs meanwhile
        await stream(session, 400)
        await session.stop()
    assert rec.failures() == []
    assert session.state is SessionState.CLOSED


async def test_a_slow_but_moving_uplink_is_not_taken_for_a_dead_link() -> None:
    """The uplink carries a quarter of real time and the person is silent, so the service has
    nothing to say, and the pings wait behind the audio in the send buffers for longer than
    the silence limit. The audio still leaves (the link is alive, only slow: the recorder
    says so and, in Automatic mode, goes offline): the session must not end as "stopped
    answering" and reconnect into the same slow link, over and over."""
    options = StreamingOptions(connect_timeout=5, begin_timeout=2, terminate_timeout=3,
                               ping_interval=1.0, silence_timeout=3.0)
    coded = config(recognizer_factory=lambda params: CodedRecognizer(params.sample_rate))
    async with run_emulator(coded) as emu, \
            throttled_link(emu.url, bytes_per_s=0.25 * 32_000) as url:
        rec = SessionEvents()
        session = StreamingSession(endpoints_for(override=url), KEY,
                                   StreamingParams(format_turns=False), rec, options=options)
        await session.start()
        for _ in range(80):  # 8 s of silence in real time: 6 s of it is still waiting
            session.send_audio(bytes(3200))
            await asyncio.sleep(0.1)  # noqa: ASYNC110 -- real-time pacing, as a microphone
        failures = rec.failures()
        sent_while_silent = session.sent_frames
        session.abandon(e.ConnectionFailedError("the test is over"))
        await session.stop()
    assert failures == [], failures
    assert sent_while_silent >= 10  # the audio kept leaving, slowly
