"""A whole recording without a window: WAV file source → streaming client → emulator →
transcript model → autosave, through the same Recorder the window uses."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from app.core import errors as e
from app.core.config import StreamingParams, endpoints_for
from app.core.errors import LiveTranscriberError
from app.core.export import to_txt
from app.core.journal import parse_journal
from app.core.ports import EventSink
from app.core.recording import EngineFactory, RecorderState
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import TranscriptModel
from app.io.audio.file_source import WavFileSource
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.recording.autosave import TranscriptAutosave, autosave_name
from app.io.recording.recorder import Recorder
from tests.emulator import Emulator, EmulatorConfig, ScriptedRecognizer, run_emulator
from tests.support.recording import RecordingLog

KEY = "recorder-test-key"
SCRIPT = ("one two three four", "five six seven eight", "nine ten eleven twelve")
HELLO = Path(__file__).parents[2] / "fixtures" / "hello.wav"  # 3.1 s
HELLO_BYTES = os.path.getsize(HELLO)
OPTIONS = StreamingOptions(connect_timeout=5, begin_timeout=2, terminate_timeout=3)


def emulator_config(**overrides: object) -> EmulatorConfig:
    values: dict[str, object] = {
        "api_keys": frozenset({KEY}),
        "recognizer_factory": lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=150),
    }
    values.update(overrides)
    return EmulatorConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with run_emulator(emulator_config()) as emu:
        yield emu


def engine_factory(emu: Emulator, key: str = KEY, format_turns: bool = False) -> EngineFactory:
    def build(sink: EventSink) -> StreamingSession:
        return StreamingSession(endpoints_for(override=emu.url), key,
                                StreamingParams(format_turns=format_turns), sink,
                                options=OPTIONS)
    return build


class FileSources:
    """Builds WAV sources and remembers the last one (to wait until it has played)."""

    def __init__(self, path: Path = HELLO) -> None:
        self.path = path
        self.last: WavFileSource | None = None

    def __call__(self, on_frame: FrameSink, on_level: LevelSink,
                 on_error: ErrorSink) -> AudioSource:
        self.last = WavFileSource(self.path, on_frame=on_frame, on_level=on_level,
                                  on_error=on_error, realtime=False)
        return self.last


def autosaves(folder: Path) -> object:
    def build(started: datetime, on_error: object) -> TranscriptAutosave:
        return TranscriptAutosave(folder / autosave_name(started), on_error)  # type: ignore[arg-type]
    return build


def the_one_file(folder: Path) -> str:
    """The one autosaved text (its journal lies beside it)."""
    (path,) = folder.glob("*.txt")
    return path.name


def journal_engine(folder: Path) -> str | None:
    """The engine the one journal's header names."""
    (path,) = folder.glob("*.journal.jsonl")
    header = parse_journal(path.read_text()).header
    assert header is not None
    return header.engine


def saved_text(folder: Path) -> str:
    return (folder / the_one_file(folder)).read_text()


async def record_until_played(recorder: Recorder, sources: FileSources,
                              engine: EngineFactory) -> LiveTranscriberError | None:
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.record(sources, engine, stop))
    listener: RecordingLog = recorder._listener  # type: ignore[assignment]  # noqa: SLF001
    await asyncio.wait_for(listener.recording.wait(), 5)
    assert sources.last is not None
    await asyncio.wait_for(sources.last.wait_finished(), 10)
    stop.set()
    return await asyncio.wait_for(task, 10)


async def test_a_whole_recording_keeps_every_word_and_autosaves_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    model, listener = TranscriptModel(), RecordingLog()
    recorder = Recorder(model, listener, autosaves(tmp_path))  # type: ignore[arg-type]
    error = await record_until_played(recorder, FileSources(), engine_factory(emulator))

    assert error is None and listener.errors == []
    assert listener.states == [RecorderState.STARTING, RecorderState.RECORDING,
                               RecorderState.STOPPING, RecorderState.IDLE]
    assert len(listener.sessions) == 1
    # 3.1 s of audio at 150 ms a word = 20 words revealed: all three sentences.
    assert [t.text for t in model.finals] == list(SCRIPT)
    assert model.partial is None
    assert any(c.kind == "partial" for c in listener.changes)
    assert listener.levels, "the level meter was fed"
    assert the_one_file(tmp_path).endswith(".txt")
    assert saved_text(tmp_path) == to_txt(model.finals)
    (session,) = await emulator.wait_sessions_closed_async(1)
    assert session.text_messages_received == ['{"type":"Terminate"}']
    assert session.audio_bytes_received >= HELLO_BYTES - 44


async def test_the_journal_names_the_engine_that_transcribed(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The History lists each recording with its engine: the journal's header names it."""
    recorder = Recorder(TranscriptModel(), RecordingLog(),
                        autosaves(tmp_path))  # type: ignore[arg-type]
    await record_until_played(recorder, FileSources(), engine_factory(emulator))
    assert journal_engine(tmp_path) == "cloud"


async def test_formatted_revisions_replace_the_last_autosaved_paragraph(
    emulator: Emulator, tmp_path: Path
) -> None:
    model, listener = TranscriptModel(), RecordingLog()
    recorder = Recorder(model, listener, autosaves(tmp_path))  # type: ignore[arg-type]
    await record_until_played(recorder, FileSources(), engine_factory(emulator,
                                                                      format_turns=True))
    assert [t.text for t in model.finals] == ["One two three four.", "Five six seven eight.",
                                               "Nine ten eleven twelve."]
    assert any(c.kind == "revised" for c in listener.changes)
    assert saved_text(tmp_path) == to_txt(model.finals)


async def test_a_rejected_key_ends_the_start_plainly(emulator: Emulator) -> None:
    model, listener = TranscriptModel(), RecordingLog()
    recorder = Recorder(model, listener)
    error = await recorder.record(FileSources(), engine_factory(emulator, key="bad"),
                                  asyncio.Event())
    assert isinstance(error, e.AuthError)
    assert listener.errors == [error]
    assert RecorderState.RECORDING not in listener.states
    assert listener.states[-1] is RecorderState.IDLE


async def test_a_source_that_cannot_start_is_reported_and_leaves_no_file(
        emulator: Emulator, tmp_path: Path) -> None:
    model, listener = TranscriptModel(), RecordingLog()
    folder = tmp_path / "transcripts"
    recorder = Recorder(model, listener, autosaves(folder))  # type: ignore[arg-type]
    error = await recorder.record(FileSources(tmp_path / "missing.wav"),
                                  engine_factory(emulator), asyncio.Event())
    assert isinstance(error, e.AudioError)
    assert listener.states[-1] is RecorderState.IDLE
    assert not folder.exists(), "a start that failed leaves no empty autosave behind"


async def test_cancelling_a_recording_still_terminates_the_session(emulator: Emulator) -> None:
    model, listener = TranscriptModel(), RecordingLog()
    recorder = Recorder(model, listener)
    sources = FileSources()
    task = asyncio.create_task(recorder.record(sources, engine_factory(emulator),
                                               asyncio.Event()))
    await asyncio.wait_for(listener.recording.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (session,) = await emulator.wait_sessions_closed_async(1)
    assert session.text_messages_received == ['{"type":"Terminate"}']
    assert listener.states[-1] is RecorderState.IDLE


def test_autosave_names_files_by_start_time() -> None:
    assert autosave_name(datetime(2026, 11, 26, 7, 34, 12)) == "2026-11-26_07-34-12.txt"
