"""History: recordings made by the real window (against the emulator) are listed newest first,
searched across, read, exported and deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.core.export import Format
from app.core.recording import RecorderState
from app.core.subtitles import parse_srt
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.history_dialog import HistoryDialog
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.wiring import services, wav_file
from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer
from tests.ui.conftest import QtLoop, signal_until

KEY = "history-test-key"
HELLO = Path(__file__).parents[1] / "fixtures" / "hello.wav"
SCRIPTS = (("good morning everyone", "the budget is approved"),
           ("next the weather", "sunny with a light breeze"))


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    sessions = iter(SCRIPTS)
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(next(sessions), ms_per_word=150))
    with EmulatorThread(config) as emu:
        yield emu


@pytest.fixture
def window(qapp: QApplication, emulator: EmulatorThread, tmp_path: Path) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=KEY)
    built.secret_store = SessionOnlyStore()
    built.make_source = lambda device: wav_file(HELLO, realtime=True)
    prefs = Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win = build_window(TranscriptModel(), built,
                       {"LIVE_TRANSCRIBER_STREAMING_URL": emulator.url}, prefs)
    win.show()
    return win


def test_recordings_are_listed_searched_read_exported_and_deleted(
    qt_loop: QtLoop, window: MainWindow, tmp_path: Path,
) -> None:
    controller = window.controller

    async def record_one() -> None:
        controller.start_recording()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.RECORDING)
        await signal_until(controller.transcript_changed, lambda c: c.kind == "final", 15)
        controller.stop_recording()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 15)

    async def scenario() -> HistoryDialog:
        await controller.initialize()
        await record_one()
        controller.clear_transcript()
        await record_one()
        dialog = window.open_history()
        assert dialog is not None
        await dialog.load()
        return dialog

    dialog = qt_loop.run(scenario())
    assert dialog.list.objectName() == "historyList"
    shown = dialog.shown()
    assert len(shown) == 2  # one entry per recording
    newest, oldest = shown
    assert newest.started >= oldest.started
    assert newest.text.startswith("Next the weather")
    assert oldest.text.startswith("Good morning everyone")
    label = dialog.list.item(0).text()
    assert label.startswith(f"{newest.started:%d %b %Y %H:%M} · ")
    assert label.endswith("— Next the weather.")
    assert dialog.reader.toPlainText() == newest.text  # the newest is open

    dialog.search.setText("MORNING everyone")  # across every recording, case-insensitive
    assert [r.journal for r in dialog.shown()] == [oldest.journal]
    assert dialog.reader.toPlainText().startswith("Good morning everyone")
    assert dialog.status.text() == "1 of 2 recordings"
    dialog.search.setText("nowhere")
    assert dialog.shown() == [] and not dialog.export_button.isEnabled()
    dialog.search.clear()

    out = tmp_path / "weather.srt"
    assert qt_loop.run(dialog.export(newest, out, Format.SRT))
    assert " ".join(c.text for c in parse_srt(out.read_text())).startswith("Next the weather")

    text_file = newest.journal.with_name(newest.journal.name.split(".")[0] + ".txt")
    assert text_file.exists()
    assert qt_loop.run(dialog.delete(newest))
    assert not newest.journal.exists() and not text_file.exists()
    assert [r.journal for r in dialog.shown()] == [oldest.journal]
    qt_loop.run(controller.shutdown())
