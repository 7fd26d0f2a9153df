"""Layout, keyboard use and accessibility names of the main window (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.core.recording import RecorderState
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import ICON, build_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.wiring import services, wav_file
from tests.emulator import EmulatorConfig, EmulatorThread
from tests.ui.conftest import QtLoop, signal_until

KEY = "main-window-key"
HELLO = Path(__file__).parents[1] / "fixtures" / "hello.wav"
NAMES = {
    "devicePicker": "Input device",
    "refreshDevicesButton": "Refresh devices",
    "recordButton": None,  # named by its visible text
    "levelMeter": "Input level",
    "transcriptView": "Transcript",
    "copyButton": "Copy transcript",
    "saveButton": "Save transcript",
    "clearButton": "Clear transcript",
    "settingsButton": "Settings",
    "engineStatus": None,  # a status widget: named with its sentence
    "messageBar": "Messages",
    "recordingIndicator": "Recording time",
}


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(api_keys=frozenset({KEY}))) as emu:
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


def test_every_interactive_widget_has_its_object_name_and_a_readable_name(
    window: MainWindow,
) -> None:
    for object_name, accessible in NAMES.items():
        widget = window.findChild(QWidget, object_name)
        assert widget is not None, object_name
        name = widget.accessibleName()
        assert name != object_name
        if accessible is not None:
            assert name == accessible
    assert window.record_button.text().replace("&", "") == "Start recording"
    assert window.record_button.accessibleName() == ""  # the screen reader reads the text


def test_fits_800_by_500(window: MainWindow) -> None:
    hint = window.minimumSizeHint()
    assert hint.width() <= 800 and hint.height() <= 500
    window.resize(800, 500)
    QApplication.processEvents()
    for widget in (window.record_button, window.save_button, window.clear_button,
                   window.engine_status, window.device_picker):
        assert widget.isVisible()
        inside = window.rect().contains(widget.mapTo(window, widget.rect().bottomRight()))
        assert inside, widget.objectName()


def test_has_the_app_icon(window: MainWindow) -> None:
    assert ICON.exists()
    assert not window.windowIcon().isNull()


def test_tab_order_walks_the_main_controls(window: MainWindow) -> None:
    window.activateWindow()
    window.device_picker.setFocus()
    seen = []
    for _ in range(12):
        widget = QApplication.focusWidget()
        if widget is not None and widget.objectName():
            seen.append(widget.objectName())
        window.focusNextChild()
    # Copy and Save are disabled while the transcript is empty, so Tab skips them.
    assert not window.copy_button.isEnabled() and not window.save_button.isEnabled()
    for name in ("devicePicker", "refreshDevicesButton", "settingsButton", "transcriptView",
                 "recordButton", "clearButton"):
        assert name in seen
    assert seen.index("devicePicker") < seen.index("recordButton") < seen.index("clearButton")


def test_ctrl_r_starts_and_stops_recording(qt_loop: QtLoop, window: MainWindow) -> None:
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        await signal_until(controller.state_changed, lambda s: s is RecorderState.RECORDING)
        assert not window.device_picker.isEnabled()  # no device change mid-recording
        QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 15)
        await controller.shutdown()

    qt_loop.run(scenario())
    assert window.record_button.text() == "&Start recording"
    assert window.device_picker.isEnabled()


def test_follows_a_dark_palette(window: MainWindow, qapp: QApplication) -> None:
    light = window.transcript_view.palette().color(QPalette.ColorRole.Base)
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, Qt.GlobalColor.black)
    dark.setColor(QPalette.ColorRole.Base, Qt.GlobalColor.black)
    dark.setColor(QPalette.ColorRole.Text, Qt.GlobalColor.white)
    original = qapp.palette()
    try:
        qapp.setPalette(dark)
        QApplication.processEvents()
        base = window.transcript_view.palette().color(QPalette.ColorRole.Base)
        assert base != light and base.lightness() < 50
    finally:
        qapp.setPalette(original)
