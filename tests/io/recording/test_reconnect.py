"""A recording survives its session ending: every word spoken, in order, exactly once.

Coded speech (tests/support/coded_speech.py) makes every word unique and the emulator's
``CodedRecognizer`` reads the words from the audio itself, so a replay after a reconnect is
transcribed from what it really holds: a lost or doubled word shows in the transcript.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core import errors as e
from app.core.config import StreamingParams, endpoints_for
from app.core.ports import EventSink, TranscriptionEngine
from app.core.reconnect import ReconnectSettings
from app.core.recording import EngineFactory, NoticeKind, RecorderState
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import TranscriptModel
from app.io.audio.file_source import WavFileSource
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.recording.recorder import Recorder, RecorderOptions
from tests.emulator import CodedRecognizer, Emulator, EmulatorConfig, run_emulator
from tests.io.recording.test_recorder import autosaves, saved_text
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.recording import RecordingLog

KEY = "reconnect-test-key"
# Three sentences, ~7.5 s: a fault 1.3-2.5 s after Begin lands inside the first turn.
SENTENCES = [[1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12]]
OPTIONS = StreamingOptions(connect_timeout=5, begin_timeout=3, terminate_timeout=5)
QUICK = RecorderOptions(reconnect=ReconnectSettings(base_delay_s=0.1, max_delay_s=0.5,
                                                    give_up_after_s=3.0,
                                                    fall_back_after_s=1.5))


def coded_config(**faults: object) -> EmulatorConfig:
    values: dict[str, object] = {
        "api_keys": frozenset({KEY}),
        "recognizer_factory": lambda params: CodedRecognizer(params.sample_rate),
    }
    values.update(faults)
    return EmulatorConfig(**values)  # type: ignore[arg-type]


def cloud(emu: Emulator) -> EngineFactory:
    def build(sink: EventSink) -> TranscriptionEngine:
        return StreamingSession(endpoints_for(override=emu.url), KEY, StreamingParams(), sink,
                                options=OPTIONS)
    return build


class CodedFile:
    """A source factory playing coded speech in real time; ``finished`` once it has all gone."""

    def __init__(self, path: Path, realtime: bool = True,
                 room: Callable[[], object] | None = None) -> None:
        self.path = path
        self.realtime = realtime
        self.finished = asyncio.Event()
        self.sources: list[WavFileSource] = []

    def __call__(self, on_frame: FrameSink, on_level: LevelSink,
                 on_error: ErrorSink) -> AudioSource:
        source = WavFileSource(self.path, on_frame=on_frame, on_level=on_level,
                               on_error=on_error, realtime=self.realtime)
        self.sources.append(source)
        asyncio.get_running_loop().create_task(self._watch(source))
        return source

    async def _watch(self, source: WavFileSource) -> None:
        await source.wait_finished()
        self.finished.set()


def words_of(model: TranscriptModel) -> list[str]:
    """The transcript's words without the formatting (capitals, full stops)."""
    return re.findall(r"n\d{3}", " ".join(t.text for t in model.finals).lower())


async def record_to_end(recorder: Recorder, path: Path, engine: EngineFactory,
                        fallback: EngineFactory | None = None
                        ) -> e.LiveTranscriberError | None:
    """Play the file into a recording and press Stop once it has all been played."""
    stop = asyncio.Event()
    source = CodedFile(path)
    task = asyncio.create_task(recorder.record(source, engine, stop, fallback))
    await asyncio.wait({task, asyncio.ensure_future(source.finished.wait())},
                       return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    return await task


@pytest.fixture
def coded_wav(tmp_path: Path) -> Path:
    return write_coded_speech_wav(tmp_path / "coded.wav", SENTENCES)


@pytest.mark.parametrize("fault", [
    pytest.param({"drop_after": 1.8}, id="tcp-drop-mid-turn"),
    pytest.param({"close_after": (1000, 1.8, "")}, id="clean-close-mid-session"),
    pytest.param({"termination_after": 1.8}, id="unrequested-termination"),
    pytest.param({"close_after": (1012, 1.8, "Service Restart")}, id="service-restart-1012"),
    pytest.param({"expire_after": 1.8}, id="session-expiry-3008"),
])
async def test_a_session_ending_mid_sentence_loses_and_doubles_no_word(
    fault: dict[str, object], coded_wav: Path, tmp_path: Path,
) -> None:
    autosave_folder = tmp_path / "autosave"
    async with run_emulator(coded_config(fault_sessions=1, **fault)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, autosaves(autosave_folder),  # type: ignore[arg-type]
                            options=QUICK)
        error = await record_to_end(recorder, coded_wav, cloud(emu))
        sessions = emu.sessions_started
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    # The autosave (what survives a crash) holds the same words, once each, in order.
    assert re.findall(r"n\d{3}", saved_text(autosave_folder).lower()) == coded_words(SENTENCES)
    assert recorder.reconnects == 1 and sessions == 2
    kinds = [n.kind for n in listener.notices]
    assert kinds == [NoticeKind.RECONNECTING, NoticeKind.RECONNECTED]
    assert "Reconnected after" in listener.notices[-1].text
    assert recorder.lost_ms == 0 and recorder.dropped_frames == 0
    assert listener.states == [RecorderState.STARTING, RecorderState.RECORDING,
                               RecorderState.STOPPING, RecorderState.IDLE]


async def test_an_outage_longer_than_the_give_up_time_ends_plainly(coded_wav: Path) -> None:
    async with run_emulator(coded_config(drop_after=1.5, fault_sessions=1)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.record(CodedFile(coded_wav), cloud(emu), stop))
        await emu.wait_sessions_started_async(1)
        emu.service_down()  # every later connect is refused with HTTP 503
        error = await asyncio.wait_for(task, 30)
    assert isinstance(error, e.LiveTranscriberError) and error.retryable
    assert listener.errors == [error]
    assert NoticeKind.RECONNECTING in {n.kind for n in listener.notices}
    assert listener.states[-1] is RecorderState.IDLE


async def test_a_rejected_key_at_reconnect_is_not_retried(coded_wav: Path) -> None:
    """A key revoked during the recording: the reconnect is refused and never tried again."""
    async with run_emulator(coded_config(drop_after=1.5, fault_sessions=1)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.record(CodedFile(coded_wav), cloud(emu), stop))
        await emu.wait_sessions_started_async(1)
        emu.config.api_keys = frozenset({"another-key"})
        error = await asyncio.wait_for(task, 30)
        sessions = emu.sessions_started
    assert isinstance(error, e.AuthError)
    assert sessions == 1


async def test_stop_cancels_a_connect_that_never_answers(coded_wav: Path) -> None:
    async with run_emulator(coded_config(withhold_begin=True)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.record(CodedFile(coded_wav), cloud(emu), stop))
        await emu.wait_sessions_started_async(1)
        stop.set()
        error = await asyncio.wait_for(task, 10)
    # Stop cancelled the connect: the Begin timeout's own error ("did not start the session in
    # time") never happened; at most the audio held meanwhile is reported as not transcribed.
    assert listener.states[-1] is RecorderState.IDLE
    assert RecorderState.RECORDING not in listener.states
    assert error is None or "not transcribed" in error.message


async def test_automatic_falls_back_and_the_outage_words_are_transcribed(coded_wav: Path) -> None:
    """The service goes away for good mid-sentence: after ``fall_back_after_s`` the fallback
    engine (here a second, healthy service, so its words can be counted the same way) hears
    the held audio and the recording continues with every word once."""
    async with run_emulator(coded_config(drop_after=1.8, fault_sessions=1)) as primary, \
            run_emulator(coded_config()) as spare:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        source = CodedFile(coded_wav)
        task = asyncio.create_task(recorder.record(source, cloud(primary), stop, cloud(spare)))
        await primary.wait_sessions_started_async(1)
        primary.service_down()
        await source.finished.wait()
        stop.set()
        error = await asyncio.wait_for(task, 30)
        spare_sessions = spare.sessions_started
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    assert spare_sessions == 1
    kinds = [n.kind for n in listener.notices]
    # Said once, and last: the offline engine taking over is no reconnection to the cloud
    # ("Reconnected after 0.0 s" read as if it were back, and pushed the reason off the bar).
    assert kinds[-1] is NoticeKind.FALLBACK and NoticeKind.RECONNECTED not in kinds, kinds
    assert "offline engine" in listener.notices[-1].text
    assert recorder.reconnects == 0


async def test_automatic_goes_offline_at_once_when_the_cloud_is_down_at_start(
    coded_wav: Path,
) -> None:
    async with run_emulator(coded_config()) as primary, run_emulator(coded_config()) as spare:
        primary.service_down()
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        error = await record_to_end(recorder, coded_wav, cloud(primary), cloud(spare))
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    assert [n.kind for n in listener.notices][0] is NoticeKind.FALLBACK


async def test_a_broken_setting_ends_the_start_with_its_sentence(coded_wav: Path) -> None:
    """A hand-edited key term over 50 characters: the engine cannot even be built. The
    recording must end at once with the setting's sentence, never hang in STARTING."""
    from app.core.config import SettingsError

    def broken(sink: EventSink) -> TranscriptionEngine:
        raise SettingsError("A key term is longer than 50 characters.",
                            remedy="Shorten it in Settings.")

    model, listener = TranscriptModel(), RecordingLog()
    recorder = Recorder(model, listener, options=QUICK)
    error = await asyncio.wait_for(record_to_end(recorder, coded_wav, broken), 10)
    assert isinstance(error, SettingsError)
    assert listener.errors == [error]
    assert listener.states[-1] is RecorderState.IDLE


@pytest.mark.parametrize("when", ["before-finals", "after-finals"])
async def test_a_drop_while_stopping_loses_no_word_and_reports_nothing(
    when: str, coded_wav: Path, tmp_path: Path,
) -> None:
    """The connection drops as Stop sends Terminate (before or after the service sent the
    last sentence): the held audio from the last finished turn on is heard again by a new
    session, which is then ended, so the last words are there once and Stop reports no
    error."""
    autosave_folder = tmp_path / "autosave"
    async with run_emulator(coded_config(drop_on_terminate=when, fault_sessions=1)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, autosaves(autosave_folder),  # type: ignore[arg-type]
                            options=QUICK)
        error = await record_to_end(recorder, coded_wav, cloud(emu))
        sessions = emu.sessions_started
    assert error is None, error
    assert words_of(model) == coded_words(SENTENCES)
    assert re.findall(r"n\d{3}", saved_text(autosave_folder).lower()) == coded_words(SENTENCES)
    assert sessions == 2
    assert [n.kind for n in listener.notices] == [NoticeKind.RECONNECTING,
                                                  NoticeKind.RECONNECTED]
    assert listener.errors == []


async def test_a_drop_while_stopping_with_the_service_gone_says_what_was_not_heard(
    coded_wav: Path,
) -> None:
    """The service is unreachable when Stop's session drops before the last sentence: Stop
    still ends within its bounds, keeps every earlier word and says what is missing."""
    async with run_emulator(coded_config(drop_on_terminate="before-finals")) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = Recorder(model, listener, options=QUICK)
        stop = asyncio.Event()
        source = CodedFile(coded_wav)
        task = asyncio.create_task(recorder.record(source, cloud(emu), stop))
        await source.finished.wait()
        emu.service_down()
        stop.set()
        error = await asyncio.wait_for(task, 60)
    assert isinstance(error, e.LiveTranscriberError)
    assert listener.errors == [error]
    heard = words_of(model)
    assert heard == coded_words(SENTENCES)[:len(heard)]  # a prefix, nothing doubled
    assert listener.states[-1] is RecorderState.IDLE
