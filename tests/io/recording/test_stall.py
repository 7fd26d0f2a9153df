"""A link that goes silent mid-recording (black-holed route, hung server): the recording notices
within seconds, not at Stop, and goes on as after a drop — a new session hears the held audio
again, so every word is there once; Automatic continues offline mid-sentence.

The emulator's ``stall_after`` fault keeps the socket open and answers nothing, not even pings.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from app.core.recording import NoticeKind, RecorderState
from app.core.transcript import TranscriptModel
from app.io.recording.recorder import Recorder
from tests.emulator import run_emulator
from tests.io.recording.test_reconnect import (
    QUICK,
    CodedFile,
    cloud,
    coded_config,
    record_to_end,
    words_of,
)
from tests.io.recording.test_recorder import autosaves, saved_text
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.recording import RecordingLog

# ~14 s of coded speech: a stall 1 s after Begin is noticed while the file is still playing.
SENTENCES = [[31, 32, 33, 34], [35, 36, 37, 38], [39, 40, 41, 42], [43, 44, 45, 46]]


@pytest.fixture
def long_wav(tmp_path: Path) -> Path:
    return write_coded_speech_wav(tmp_path / "coded-long.wav", SENTENCES)


async def test_a_silent_link_mid_recording_reconnects_and_loses_no_word(
    long_wav: Path, tmp_path: Path,
) -> None:
    autosave_folder = tmp_path / "autosave"
    async with run_emulator(coded_config(stall_after=1.0, fault_sessions=1)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, autosaves(autosave_folder),  # type: ignore[arg-type]
                            options=QUICK)
        error = await record_to_end(recorder, long_wav, cloud(emu))
        sessions = emu.sessions_started
        stalled = emu.sessions[0].stalled
    assert error is None, error
    assert stalled
    assert words_of(model) == coded_words(SENTENCES)
    assert re.findall(r"n\d{3}", saved_text(autosave_folder).lower()) == coded_words(SENTENCES)
    assert recorder.reconnects == 1 and sessions == 2
    reconnecting, reconnected = listener.notices
    assert reconnecting.kind is NoticeKind.RECONNECTING
    assert "stopped answering" in reconnecting.text
    # Noticed while recording ("catching up"), not only when Stop ended the session.
    assert reconnected.kind is NoticeKind.RECONNECTED and "catching up" in reconnected.text
    assert recorder.lost_ms == 0
    assert listener.states == [RecorderState.STARTING, RecorderState.RECORDING,
                               RecorderState.STOPPING, RecorderState.IDLE]


async def test_automatic_goes_offline_mid_sentence_when_the_link_goes_silent(
    long_wav: Path,
) -> None:
    """The route is black-holed for good: the session goes silent and new connections are
    refused; after ``fall_back_after_s`` the fallback (a second, healthy service standing in
    for the offline engine, so its words can be counted) hears the held audio."""
    async with run_emulator(coded_config(stall_after=1.0)) as primary, \
            run_emulator(coded_config()) as spare:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        source = CodedFile(long_wav)
        task = asyncio.create_task(recorder.record(source, cloud(primary), stop, cloud(spare)))
        await primary.wait_until_async(
            lambda: bool(primary.sessions) and primary.sessions[0].stalled)
        primary.service_down()
        await source.finished.wait()
        spare_sessions_before_stop = spare.sessions_started
        stop.set()
        error = await asyncio.wait_for(task, 60)
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    assert spare_sessions_before_stop == 1  # went offline while recording, not at Stop
    first, *_, last = listener.notices
    assert first.kind is NoticeKind.RECONNECTING and "stopped answering" in first.text
    # The fallback is said last, once: the offline engine taking over is no reconnection.
    assert last.kind is NoticeKind.FALLBACK and "offline engine" in last.text, listener.notices
    assert [n.kind for n in listener.notices].count(NoticeKind.FALLBACK) == 1
