"""The window as a person meets it, offscreen: the message bar and its buttons, where the audio
goes, the crash-recovery offer, find, zoom, menus and shortcuts, Copy/Save while empty.

No recording here (tests/ui/test_window_flow.py records against the emulator): the window is
real, with the real controller and services, fed transcript messages directly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.core import journal
from app.core.config import EngineChoice
from app.core.devices import DeviceChoice, InputDevice
from app.core.errors import ConnectionFailedError
from app.core.messages import Turn, Word
from app.core.policy import Action
from app.core.recording import NoticeKind, RecordingNotice
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.main_window import PLACEHOLDER, MainWindow
from app.ui.preferences import Preferences
from app.wiring import services
from tests.ui.conftest import QtLoop, signal_until

LONG_ERROR = ("The connection to AssemblyAI dropped and could not be opened again after "
              "several attempts. Check your internet connection and start again, or choose "
              "the Offline engine to keep transcribing without a network.")


def prefs_at(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def open_window(tmp_path: Path, engine: EngineChoice = EngineChoice.AUTO) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=None)
    built.secret_store = SessionOnlyStore()
    window = build_window(TranscriptModel(), built, {}, prefs_at(tmp_path), engine=engine)
    window.resize(800, 500)
    window.show()
    return window


@pytest.fixture
def window(qapp: QApplication, tmp_path: Path) -> MainWindow:
    return open_window(tmp_path)


def say(window: MainWindow, order: int, text: str) -> None:
    words = tuple(Word(w, 1000 * order + 200 * i, 1000 * order + 200 * i + 150, 0.9, True)
                  for i, w in enumerate(text.split()))
    change = window.controller.model.apply(Turn(order, False, True, text, 1.0, words))
    assert change is not None
    window.controller.on_transcript(change)


# --- the message bar -----------------------------------------------------------------------

def test_an_error_reads_whole_across_the_window_and_the_status_bar_stays_one_line(
    window: MainWindow,
) -> None:
    one_line = window.statusBar().sizeHint().height()
    window.resize(640, 400)
    window.controller.on_error(ConnectionFailedError(LONG_ERROR))
    QApplication.processEvents()
    row = window.message_bar.row("error")
    assert row is not None and row.isVisible()
    assert row.text_label.text().startswith(LONG_ERROR)
    # It wraps over the window's width: far wider than the old 70 px column, a few lines high.
    assert row.text_label.width() > 300
    assert row.text_label.height() >= row.text_label.heightForWidth(row.text_label.width())
    assert window.statusBar().height() <= one_line + 4
    # The window's engine is Automatic without a key, so offline already: Retry only.
    assert list(row.buttons) == [Action.RETRY, Action.DISMISS]
    inside = window.rect().contains(row.mapTo(window, row.rect().bottomRight()))
    assert inside


def test_dismiss_hides_the_message(window: MainWindow) -> None:
    window.controller.on_error(ConnectionFailedError("Gone."))
    row = window.message_bar.row("error")
    assert row is not None
    row.buttons[Action.DISMISS].click()
    assert window.message_bar.row("error") is None
    assert not window.message_bar.isVisible()


def test_a_refused_cloud_start_offers_settings_and_switches_to_offline(
    qt_loop: QtLoop, tmp_path: Path,
) -> None:
    window = open_window(tmp_path, EngineChoice.CLOUD)
    opened: list[bool] = []
    window.settings_requested.connect(lambda: opened.append(True))
    assert window.engine_status.status.text == "AssemblyAI cloud (US) · no API key"
    window.controller.start_recording()  # no key: refused with the remedy
    row = window.message_bar.row("error")
    assert row is not None
    assert "No AssemblyAI API key" in row.text_label.text()
    row.buttons[Action.OPEN_SETTINGS].click()
    assert opened == [True]
    row.buttons[Action.SWITCH_OFFLINE].click()
    assert window.controller.settings.engine is EngineChoice.OFFLINE
    assert window.engine_picker.currentData() == EngineChoice.OFFLINE.value
    assert window.engine_status.status.text == "On this computer · Whisper tiny.en"
    assert window.engine_status.accessibleName() == "On this computer · Whisper tiny.en"
    assert window.message_bar.row("error") is None
    assert prefs_at(tmp_path).load().engine is EngineChoice.OFFLINE


def test_reconnect_and_fallback_notices_reach_the_bar_and_the_engine_indicator(
    window: MainWindow,
) -> None:
    controller = window.controller
    controller.on_notice(RecordingNotice(NoticeKind.RECONNECTING,
                                         "The connection dropped; reconnecting."))
    assert window.message_bar.text("notice") == "The connection dropped; reconnecting."
    controller.on_notice(RecordingNotice(NoticeKind.FALLBACK,
                                         "This recording continues on this computer."))
    assert window.message_bar.text("notice") == "This recording continues on this computer."
    assert window.engine_status.status.text == "Offline fallback · on this computer"
    assert window.engine_status.accessibleName() == "Offline fallback · on this computer"


# --- crash recovery -----------------------------------------------------------------------

def write_unfinished(folder: Path, started: datetime, texts: list[str]) -> Path:
    from app.core.transcript import TranscriptTurn

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{started:%Y-%m-%d_%H-%M-%S}{journal.JOURNAL_SUFFIX}"
    lines = [journal.header_line(started, "cloud", "test")]
    for order, text in enumerate(texts):
        lines.append(journal.turn_line(TranscriptTurn(order, text, (), True, True,
                                                      1000 * order, 1000 * order + 500)))
    path.write_text("".join(lines))
    return path


def test_restore_puts_an_unfinished_recording_back_and_closes_its_journal(
    qt_loop: QtLoop, window: MainWindow, tmp_path: Path,
) -> None:
    path = write_unfinished(tmp_path / "autosave", datetime(2026, 12, 3, 20, 41, 7),
                            ["Good morning everyone.", "Where were we"])

    async def scenario() -> None:
        await window.recovery.check()
        row = window.message_bar.row("recovery")
        assert row is not None
        assert "03 December 2026 at 20:41" in row.text_label.text()
        assert list(row.buttons) == [Action.RESTORE, Action.DISMISS]
        row.buttons[Action.RESTORE].click()
        await signal_until(window.recovery.offer_changed, lambda m: m is None)

    qt_loop.run(scenario())
    assert window.controller.model.plain_text() == "Good morning everyone.\n\nWhere were we"
    assert window.transcript_view.plain_text() == "Good morning everyone.\n\nWhere were we"
    assert window.message_bar.row("recovery") is None
    assert "Restored 2 paragraphs" in window.message_bar.text("recoveryDone")
    assert journal.parse_journal(path.read_text()).end == "recovered"
    assert window.copy_button.isEnabled()


def test_dismiss_closes_the_offer_and_keeps_the_files(
    qt_loop: QtLoop, window: MainWindow, tmp_path: Path,
) -> None:
    path = write_unfinished(tmp_path / "autosave", datetime(2026, 12, 1, 9, 0), ["Kept."])

    async def scenario() -> None:
        await window.recovery.check()
        row = window.message_bar.row("recovery")
        assert row is not None
        row.buttons[Action.DISMISS].click()
        await signal_until(window.recovery.offer_changed, lambda m: m is None)

    qt_loop.run(scenario())
    assert journal.parse_journal(path.read_text()).end == "dismissed"
    assert window.controller.model.is_empty
    assert path.exists()


# --- transcript commands ---------------------------------------------------------------------

def test_copy_and_save_wait_for_a_transcript_and_the_pane_says_what_to_do(
    window: MainWindow,
) -> None:
    assert window.transcript_view.placeholderText() == PLACEHOLDER
    actions = window.actions_by_name
    for thing in (window.copy_button, window.save_button, actions["copy"], actions["save"]):
        assert not thing.isEnabled()
    say(window, 0, "hello there")
    for thing in (window.copy_button, window.save_button, actions["copy"], actions["save"]):
        assert thing.isEnabled()
    window.copy_button.click()
    assert QGuiApplication.clipboard().text() == "hello there"


def test_find_highlights_every_match_and_steps_through_them(window: MainWindow) -> None:
    for order, text in enumerate(["one fish two fish", "red fish", "blue"]):
        say(window, order, text)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = window.find_bar
    assert bar.isVisible() and bar.field.objectName() == "findField"
    QTest.keyClicks(bar.field, "FISH")  # case does not matter
    assert bar.match_count == 3 and bar.count_label.text() == "1 of 3"
    assert len(window.transcript_view.extraSelections()) == 3
    QTest.keyClick(bar.field, Qt.Key.Key_Return)
    assert bar.count_label.text() == "2 of 3"
    QTest.keyClick(bar.field, Qt.Key.Key_F3)
    assert bar.count_label.text() == "3 of 3"
    QTest.keyClick(bar.field, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count_label.text() == "2 of 3"
    QTest.keyClick(bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count_label.text() == "1 of 3"
    bar.field.setText("whale")
    assert bar.count_label.text() == "No matches"
    QTest.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    assert window.transcript_view.extraSelections() == []


def test_zoom_by_keyboard_is_remembered(qapp: QApplication, tmp_path: Path) -> None:
    window = open_window(tmp_path)
    size = window.transcript_view.font().pointSizeF()
    window.activateWindow()
    for _ in range(2):
        window.actions_by_name["zoom_in"].trigger()
    assert window.transcript_view.font().pointSizeF() == size + 4
    assert prefs_at(tmp_path).zoom() == 2
    again = open_window(tmp_path)
    assert again.transcript_view.font().pointSizeF() == size + 4
    again.actions_by_name["zoom_reset"].trigger()
    assert again.transcript_view.font().pointSizeF() == size
    again.actions_by_name["zoom_out"].trigger()
    assert again.transcript_view.font().pointSizeF() == size - 2


def test_menus_name_every_command_with_its_shortcut(qt_loop: QtLoop, window: MainWindow,
                                                   qtbot: QtBot) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Help"]
    keys = {name: a.shortcut().toString() for name, a in window.actions_by_name.items()}
    assert keys["save"] == "Ctrl+S" and keys["quit"] == "Ctrl+Q" and keys["find"] == "Ctrl+F"
    assert keys["preferences"] == "Ctrl+,"
    assert keys["zoom_in"] == "Ctrl++" and keys["zoom_out"] == "Ctrl+-"
    window.activateWindow()
    qtbot.waitActive(window)
    with qtbot.waitSignal(window.close_requested, timeout=2000):
        QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    async def preferences_by_keyboard() -> None:  # the dialog loads its model list on the loop
        QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)

    opened: list[bool] = []
    window.settings_requested.connect(lambda: opened.append(True))
    qt_loop.run(preferences_by_keyboard())
    assert opened == [True]
    dialog = window.findChild(QDialog, "settingsDialog")
    assert dialog is not None
    dialog.reject()


def test_timestamps_toggle_is_remembered(qapp: QApplication, tmp_path: Path) -> None:
    window = open_window(tmp_path)
    say(window, 1, "stamped")
    window.actions_by_name["timestamps"].trigger()
    assert window.transcript_view.toPlainText().startswith("[00:01] stamped")
    assert open_window(tmp_path).actions_by_name["timestamps"].isChecked()


def test_the_level_meter_is_labelled_and_ignores_levels_when_not_capturing(
    window: MainWindow,
) -> None:
    window.controller.level_changed.emit(-10.0, -5.0)
    assert window.level_meter.value() == window.level_meter.minimum()
    assert not window.recording_dot.recording


def test_nothing_is_cut_at_the_minimum_size(qapp: QApplication, tmp_path: Path) -> None:
    window = open_window(tmp_path, EngineChoice.CLOUD)
    hint = window.minimumSizeHint()
    assert hint.width() <= 640 and hint.height() <= 400
    long_name = "Family 17h/19h HD Audio Controller Analog Stereo with a very long name"
    device = InputDevice("alsa_input.long", long_name, "PulseAudio", 2, 48_000, is_default=True)
    window.controller.devices_changed.emit([device], DeviceChoice(device))
    window.controller.on_error(ConnectionFailedError(LONG_ERROR))
    window.resize(640, 400)
    for _ in range(3):
        QApplication.processEvents()
    assert window.size().width() == 640 and window.size().height() == 400
    # The long device name is elided in the picker and whole in its tooltip.
    assert window.device_picker.width() < window.device_picker.fontMetrics().horizontalAdvance(
        long_name)
    assert window.device_picker.toolTip() == long_name + " (system default)"
    # Every one-line label shows its whole text; the message wraps to its full height.
    labels = [window.engine_status.label, window.connection_label, window.elapsed_label]
    for label in labels:
        assert label.width() >= label.sizeHint().width(), label.text()
    row = window.message_bar.row("error")
    assert row is not None
    text = row.text_label
    assert text.height() >= text.heightForWidth(text.width())
    for widget in (window.record_button, window.clear_button, window.save_button,
                   window.settings_button, *row.buttons.values(), text):
        assert widget.isVisible()
        corner = widget.mapTo(window, widget.rect().bottomRight())
        assert window.rect().contains(corner), widget.objectName()


def test_help_lists_the_shortcuts_and_says_where_files_are_kept(window: MainWindow) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app import __version__

    window.actions_by_name["shortcuts"].trigger()
    shortcuts = window.findChild(QMessageBox, "shortcutsDialog")
    assert shortcuts is not None
    for keys in ("Ctrl+R", "Ctrl+Q", "Ctrl+,", "Ctrl+F", "Shift+F3", "Escape"):
        assert keys in shortcuts.text(), keys
    shortcuts.close()
    window.actions_by_name["about"].trigger()
    about = window.findChild(QMessageBox, "aboutDialog")
    assert about is not None
    assert about.text() == f"Live Transcriber {__version__}"
    details = about.informativeText()
    assert "transcripts" in details and window.preferences.file_name() in details
    assert "keyring" in details and "Licences" in details
    about.close()
