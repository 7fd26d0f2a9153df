"""A slow uplink (tests/emulator/throttle.py: a loopback proxy carrying the client's bytes at a
fixed rate) loses nothing silently: back-pressure holds the audio (no queue drops a frame) and
it is transcribed late; only audio past the held buffer's bound is lost, and the person is
told when it happens, not only at Stop."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.config import StreamingParams, endpoints_for
from app.core.errors import LiveTranscriberError, SlowLinkError
from app.core.ports import EventSink, TranscriptionEngine
from app.core.recording import EngineFactory, NoticeKind, RecorderState, RecordingNotice
from app.core.transcript import TranscriptModel
from app.io.cloud.session import StreamingSession
from app.io.recording.recorder import Recorder
from tests.emulator import run_emulator
from tests.emulator.throttle import throttled_link
from tests.io.recording.test_reconnect import (
    KEY,
    OPTIONS,
    QUICK,
    SENTENCES,
    CodedFile,
    cloud,
    coded_config,
    record_to_end,
    words_of,
)
from tests.io.recording.test_stall import SENTENCES as LONG_SENTENCES
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.recording import RecordingLog

REAL_TIME = 32_000  # bytes per second of 16 kHz s16le audio


def cloud_at(url: str, sessions: list[StreamingSession]) -> EngineFactory:
    def build(sink: EventSink) -> TranscriptionEngine:
        session = StreamingSession(endpoints_for(override=url), KEY, StreamingParams(), sink,
                                   options=OPTIONS)
        sessions.append(session)
        return session
    return build


async def play_then_stop(recorder: Recorder, listener: RecordingLog, wav: Path,
                         engine: EngineFactory, timeout_s: float = 90,
                         fallback: EngineFactory | None = None,
                         ) -> tuple[list[RecordingNotice], LiveTranscriberError | None]:
    """Play ``wav`` into a recording (in real time), then press Stop: what the person was
    told while it played, and how the recording ended."""
    stop = asyncio.Event()
    source = CodedFile(wav)
    task = asyncio.create_task(recorder.record(source, engine, stop, fallback))
    await source.finished.wait()
    told_while_recording = list(listener.notices)
    stop.set()
    return told_while_recording, await asyncio.wait_for(task, timeout_s)


async def test_a_link_slower_than_real_time_loses_no_word(tmp_path: Path) -> None:
    wav = write_coded_speech_wav(tmp_path / "coded.wav", SENTENCES)
    sessions: list[StreamingSession] = []
    async with run_emulator(coded_config()) as emu, \
            throttled_link(emu.url, bytes_per_s=0.8 * REAL_TIME) as url:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        error = await record_to_end(recorder, wav, cloud_at(url, sessions))
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    assert [s.dropped_frames for s in sessions] == [0]  # the session's queue never overflowed
    assert recorder.lost_ms == 0 and listener.notices == []


async def test_audio_a_slow_link_could_not_keep_is_said_to_be_lost_when_found(
    tmp_path: Path,
) -> None:
    """The link carries 0.4x real time, so the held buffer (here 4 s, 5 min in the app)
    overflows with audio the service has not finished; then the connection drops. The new
    session cannot hear that audio again: the person is told how much was lost when the
    replay starts (not only at Stop), and the words that are kept are in order, none twice."""
    wav = write_coded_speech_wav(tmp_path / "coded-long.wav", LONG_SENTENCES)
    sessions: list[StreamingSession] = []
    async with run_emulator(coded_config(drop_after=8.0, fault_sessions=1)) as emu, \
            throttled_link(emu.url, bytes_per_s=0.4 * REAL_TIME) as url:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=replace(QUICK, max_held_ms=4000,
                                                             catch_up_timeout_s=10.0))
        told, error = await play_then_stop(recorder, listener, wav, cloud_at(url, sessions))
        told_while_recording = [n for n in told if n.kind is NoticeKind.AUDIO_LOST]
    assert recorder.reconnects >= 1 and recorder.lost_ms > 0
    [lost] = told_while_recording
    assert "not transcribed" in lost.text and "too slow" in lost.text
    # Stop says it again (with what the slow link left unfinished at the end, if anything).
    assert error is not None and "not transcribed" in error.message, error
    heard = words_of(model)
    assert len(set(heard)) == len(heard)  # nothing twice
    assert heard == [w for w in coded_words(LONG_SENTENCES) if w in heard]  # in order
    assert listener.states[-1] is RecorderState.IDLE


async def test_a_session_that_cannot_end_on_a_slow_link_says_how_much_is_missing(
    tmp_path: Path,
) -> None:
    """At 0.4x real time, Stop's Terminate waits behind the backlog and the session is given
    up: the error says how many seconds at the end were not transcribed."""
    wav = write_coded_speech_wav(tmp_path / "coded.wav", SENTENCES)
    sessions: list[StreamingSession] = []
    async with run_emulator(coded_config()) as emu, \
            throttled_link(emu.url, bytes_per_s=0.4 * REAL_TIME) as url:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=replace(QUICK, catch_up_timeout_s=5.0))
        error = await asyncio.wait_for(
            record_to_end(recorder, wav, cloud_at(url, sessions)), 90)
    assert error is not None
    assert error.message.startswith("The last ") and "not transcribed" in error.message, error
    heard = words_of(model)
    assert heard == coded_words(SENTENCES)[:len(heard)]  # a prefix: the end is what is missing


async def test_a_link_falling_behind_is_said_while_recording_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    """At half real time the audio piles up on its way to the service: the person is told
    while recording that the words will come late (not only if audio is lost), and every
    word is still transcribed once Stop has let the backlog through."""
    sentences = [[51 + 4 * s + w for w in range(4)] for s in range(6)]
    wav = write_coded_speech_wav(tmp_path / "coded-long.wav", sentences)
    sessions: list[StreamingSession] = []
    async with run_emulator(coded_config()) as emu, \
            throttled_link(emu.url, bytes_per_s=0.5 * REAL_TIME) as url:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=replace(QUICK, uplink_poll_s=0.25,
                                                             catch_up_timeout_s=60.0))
        told_while_recording, error = await play_then_stop(
            recorder, listener, wav, cloud_at(url, sessions), timeout_s=120)
    assert error is None, error
    assert [n.kind for n in told_while_recording] == [NoticeKind.BEHIND], told_while_recording
    assert told_while_recording[0].text.startswith("The connection to AssemblyAI is slow: ")
    assert "Nothing is lost" in told_while_recording[0].text
    assert words_of(model) == coded_words(sentences)
    assert recorder.lost_ms == 0  # (Stop may reopen the session to replay the held tail)


@pytest.mark.parametrize("rate", [0.4, 0.05], ids=["0.4x", "0.05x"])
async def test_automatic_continues_offline_when_the_link_cannot_keep_up(
    tmp_path: Path, rate: float,
) -> None:
    """Automatic mode on a link carrying 0.4x (or 0.05x) real time: once as much audio waits as an
    outage is given (here 1.5 s), the cloud session is abandoned and the fallback engine (a
    second, healthy service, so its words can be counted the same way) hears the held audio
    from the last finished turn: the words come in time again, every one once, and the
    person is told why in one sentence. Cloud mode waits instead (the tests above)."""
    sentences = [[61 + 4 * s + w for w in range(4)] for s in range(4)]
    wav = write_coded_speech_wav(tmp_path / "coded-long.wav", sentences)
    sessions: list[StreamingSession] = []
    async with run_emulator(coded_config()) as emu, run_emulator(coded_config()) as spare, \
            throttled_link(emu.url, bytes_per_s=rate * REAL_TIME) as url:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=replace(QUICK, uplink_poll_s=0.25))
        told_while_recording, error = await play_then_stop(
            recorder, listener, wav, cloud_at(url, sessions), fallback=cloud(spare))
        spare_sessions = spare.sessions_started
    assert error is None, error
    assert words_of(model) == coded_words(sentences)
    assert spare_sessions == 1 and len(sessions) == 1
    # Said once; no "Reconnected after 0.0 s" follows, as if the cloud were back.
    [fallback] = told_while_recording
    assert fallback.kind is NoticeKind.FALLBACK, told_while_recording
    assert fallback.text.startswith("The connection to AssemblyAI is too slow to keep up: ")
    assert "offline engine" in fallback.text
    assert recorder.lost_ms == 0
    assert isinstance(sessions[0].error, SlowLinkError)
