"""The main window: device picker, auth status, Start/Stop, live transcript, copy/save/clear.

It renders the controller's signals and calls its slots; it owns no task and does no I/O.
Every interactive widget has a stable ``objectName`` for automation and a human-readable
accessible name for screen readers (status widgets expose their visible text instead).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import short_clock
from app.core.config import EngineChoice
from app.core.devices import DeviceChoice, InputDevice
from app.core.errors import ExportError
from app.core.export import Format
from app.core.recording import RecorderState
from app.core.transcript import TranscriptChange
from app.ui.auth_indicator import AuthIndicator
from app.ui.controller import AppController
from app.ui.level_meter import LevelMeter
from app.ui.preferences import Preferences
from app.ui.transcript_view import TranscriptView

WINDOW_TITLE = "Live Transcriber"

_FILTERS = {
    Format.TXT: "Plain text (*.txt)",
    Format.SRT: "SubRip subtitles (*.srt)",
    Format.VTT: "WebVTT subtitles (*.vtt)",
    Format.JSON: "JSON with word timings (*.json)",
}
_ENGINES = {
    EngineChoice.AUTO: "Automatic",
    EngineChoice.CLOUD: "AssemblyAI (cloud)",
    EngineChoice.OFFLINE: "Offline (this computer)",
}
_STATE_TEXT = {
    RecorderState.IDLE: "Ready",
    RecorderState.STARTING: "Connecting…",
    RecorderState.RECORDING: "Recording",
    RecorderState.STOPPING: "Finishing the last words…",
}


class MainWindow(QMainWindow):
    close_requested = Signal()  # the app decides when the window really closes (after cleanup)
    settings_requested = Signal()

    def __init__(self, controller: AppController, preferences: Preferences,
                 icon: QIcon | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.preferences = preferences
        self._may_close = False
        self.setWindowTitle(WINDOW_TITLE)
        if icon is not None:
            self.setWindowIcon(icon)
        self.setMinimumSize(640, 400)
        self._build()
        self._connect()
        geometry = preferences.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(900, 600)
        self._render_state(RecorderState.IDLE)
        self.auth_indicator.set_status(controller.auth_status)

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)

        top = QHBoxLayout()
        device_label = QLabel("&Input device:", central)
        self.device_picker = QComboBox(central)
        self.device_picker.setObjectName("devicePicker")
        self.device_picker.setAccessibleName("Input device")
        self.device_picker.setMinimumContentsLength(14)
        self.device_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        device_label.setBuddy(self.device_picker)
        self.refresh_button = QToolButton(central)
        self.refresh_button.setObjectName("refreshDevicesButton")
        self.refresh_button.setText("Refresh")
        self.refresh_button.setAccessibleName("Refresh devices")
        self.refresh_button.setToolTip("List the microphones again")
        engine_label = QLabel("&Engine:", central)
        self.engine_picker = QComboBox(central)
        self.engine_picker.setObjectName("enginePicker")
        self.engine_picker.setAccessibleName("Speech engine")
        for choice, text in _ENGINES.items():
            self.engine_picker.addItem(text, choice.value)
        self.engine_picker.setCurrentIndex(
            self.engine_picker.findData(self.controller.settings.engine.value))
        engine_label.setBuddy(self.engine_picker)
        self.level_meter = LevelMeter(central)
        self.auth_indicator = AuthIndicator(self.controller.auth_status, central)
        self.settings_button = QPushButton("Se&ttings…", central)
        self.settings_button.setObjectName("settingsButton")
        self.settings_button.setAccessibleName("Settings")
        top.addWidget(device_label)
        top.addWidget(self.device_picker, 3)  # long source names get the room there is
        for widget in (self.refresh_button, engine_label, self.engine_picker):
            top.addWidget(widget)
        top.addWidget(self.level_meter, 1)
        top.addWidget(self.auth_indicator)
        top.addWidget(self.settings_button)
        layout.addLayout(top)

        self.device_notice = QLabel(central)
        self.device_notice.setObjectName("deviceNotice")
        self.device_notice.setWordWrap(True)
        self.device_notice.hide()
        layout.addWidget(self.device_notice)

        self.transcript_view = TranscriptView(self.controller.model, central)
        self.transcript_view.set_show_timestamps(self.preferences.show_timestamps())
        layout.addWidget(self.transcript_view, 1)

        bottom = QHBoxLayout()
        self.record_button = QPushButton(central)
        self.record_button.setObjectName("recordButton")
        self.record_button.setMinimumWidth(150)
        self.elapsed_label = QLabel("00:00", central)
        self.elapsed_label.setObjectName("elapsedTime")
        self.dropped_label = QLabel(central)
        self.dropped_label.setObjectName("droppedFrames")
        self.dropped_label.hide()
        self.copy_button = QPushButton("&Copy transcript", central)
        self.copy_button.setObjectName("copyButton")
        self.copy_button.setAccessibleName("Copy transcript")
        self.save_button = QPushButton("Sa&ve…", central)
        self.save_button.setObjectName("saveButton")
        self.save_button.setAccessibleName("Save transcript")
        self.clear_button = QPushButton("C&lear", central)
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setAccessibleName("Clear transcript")
        bottom.addWidget(self.record_button)
        bottom.addWidget(self.elapsed_label)
        bottom.addWidget(self.dropped_label)
        bottom.addStretch(1)
        for button in (self.copy_button, self.save_button, self.clear_button):
            bottom.addWidget(button)
        layout.addLayout(bottom)
        self.setCentralWidget(central)

        self.connection_label = QLabel("Ready", self)
        self.session_label = QLabel(self)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("lastError")
        self.error_label.setWordWrap(True)
        self.autosave_label = QLabel(self)
        self.autosave_label.setObjectName("autosavePath")
        self.autosave_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status = self.statusBar()
        status.addWidget(self.connection_label)
        status.addWidget(self.session_label)
        status.addWidget(self.error_label, 1)
        status.addPermanentWidget(self.autosave_label)

        self.setTabOrder(self.device_picker, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.engine_picker)
        self.setTabOrder(self.engine_picker, self.settings_button)
        self.setTabOrder(self.settings_button, self.transcript_view)
        self.setTabOrder(self.transcript_view, self.record_button)
        self.setTabOrder(self.record_button, self.copy_button)
        self.setTabOrder(self.copy_button, self.save_button)
        self.setTabOrder(self.save_button, self.clear_button)

        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(500)
        self._elapsed_timer.timeout.connect(self._tick)

        self._add_action("Start or stop recording", "Ctrl+R", self.record_button.click)
        self._add_action("Save transcript", QKeySequence.StandardKey.Save, self.save_dialog)
        self._add_action("Copy transcript", "Ctrl+Shift+C", self.copy_all)
        self._add_action("Settings", QKeySequence.StandardKey.Preferences,
                         self.settings_requested.emit)

    def _add_action(self, text: str, shortcut: str | QKeySequence.StandardKey,
                    slot: object) -> None:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    def _connect(self) -> None:
        c = self.controller
        c.state_changed.connect(self._render_state)
        c.transcript_changed.connect(self._on_change)
        c.transcript_reset.connect(self.transcript_view.clear_all)
        c.level_changed.connect(self.level_meter.set_level)
        c.auth_changed.connect(self.auth_indicator.set_status)
        c.error_changed.connect(self._show_error)
        c.devices_changed.connect(self._show_devices)
        c.session_changed.connect(lambda sid: self.session_label.setText(f"Session {sid}"))
        c.autosave_changed.connect(self._show_autosave)
        c.dropped_changed.connect(self._show_dropped)
        self.record_button.clicked.connect(self._record_clicked)
        self.refresh_button.clicked.connect(lambda: c.spawn(c.refresh_devices()))
        self.device_picker.activated.connect(self._device_chosen)
        self.engine_picker.activated.connect(self._engine_chosen)
        self.copy_button.clicked.connect(self.copy_all)
        self.save_button.clicked.connect(self.save_dialog)
        self.clear_button.clicked.connect(self.clear_with_confirmation)
        self.settings_button.clicked.connect(self.settings_requested.emit)

    # --- rendering ------------------------------------------------------------------------

    def _render_state(self, state: RecorderState) -> None:
        recording = state in (RecorderState.STARTING, RecorderState.RECORDING)
        self.record_button.setText("&Stop recording" if recording else "&Start recording")
        self.record_button.setEnabled(not state.busy)
        self.device_picker.setEnabled(state is RecorderState.IDLE)
        self.engine_picker.setEnabled(state is RecorderState.IDLE)
        self.refresh_button.setEnabled(state is RecorderState.IDLE)
        self.clear_button.setEnabled(state is RecorderState.IDLE)
        self.connection_label.setText(_STATE_TEXT[state])
        if state is RecorderState.RECORDING:
            self._elapsed_timer.start()
        elif state is RecorderState.IDLE:
            self._elapsed_timer.stop()
            self.level_meter.reset()
        self._tick()

    def _tick(self) -> None:
        self.elapsed_label.setText(short_clock(int(self.controller.elapsed_seconds * 1000)))

    def _on_change(self, change: TranscriptChange) -> None:
        self.transcript_view.apply(change)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setToolTip(text)

    def _show_devices(self, devices: list[InputDevice], choice: DeviceChoice) -> None:
        self.device_picker.blockSignals(True)
        self.device_picker.clear()
        for device in devices:
            label = device.name + (" (system default)" if device.is_default else "")
            if device.is_monitor and "monitor" not in device.name.lower():
                label += " — monitor"
            self.device_picker.addItem(label, device.id)
        if choice.device is not None:
            self.device_picker.setCurrentIndex(self.device_picker.findData(choice.device.id))
        self.device_picker.blockSignals(False)
        self.device_notice.setText(choice.notice)
        self.device_notice.setVisible(bool(choice.notice))

    def _show_autosave(self, path: str) -> None:
        self.autosave_label.setText(f"Autosave: {path}")
        self.autosave_label.setToolTip(path)

    def _show_dropped(self, dropped: int) -> None:
        self.dropped_label.setText(f"{dropped} audio frames dropped")
        self.dropped_label.setVisible(dropped > 0)

    # --- actions --------------------------------------------------------------------------

    def _record_clicked(self) -> None:
        self.controller.toggle_recording()
        self._render_state(self.controller.state)

    def _device_chosen(self, index: int) -> None:
        device_id = self.device_picker.itemData(index)
        if isinstance(device_id, str):
            self.controller.select_device(device_id)
            self.preferences.save(self.controller.remember_device(device_id))

    def _engine_chosen(self, index: int) -> None:
        value = self.engine_picker.itemData(index)
        self.preferences.save(self.controller.set_engine(EngineChoice(str(value))))

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.controller.model.plain_text())
        self.statusBar().showMessage("Transcript copied to the clipboard.", 3000)

    def save_dialog(self) -> None:
        folder = self.preferences.last_folder()
        path_text, chosen_filter = QFileDialog.getSaveFileName(
            self, "Save transcript", str(folder / "transcript.txt"), ";;".join(_FILTERS.values()))
        if not path_text:
            return
        fmt = next((f for f, label in _FILTERS.items() if label == chosen_filter), Format.TXT)
        path = Path(path_text)
        if not path.suffix:
            path = path.with_suffix(fmt.suffix)
        self.controller.spawn(self.save_to(path, fmt))

    async def save_to(self, path: Path, fmt: Format) -> bool:
        try:
            await self.controller.save_transcript(path, fmt)
        except ExportError as exc:
            self._show_error(str(exc))
            QMessageBox.warning(self, "Could not save", str(exc))
            return False
        self.preferences.set_last_folder(path.parent)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def clear_with_confirmation(self) -> None:
        if self.controller.unsaved:
            answer = QMessageBox.question(
                self, "Clear transcript",
                "The transcript has not been saved. Clear it anyway? (The autosave file "
                "is kept.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.controller.clear_transcript()

    # --- closing --------------------------------------------------------------------------

    def allow_close(self) -> None:
        """Called by the app once the controller has shut down: the next close goes through."""
        self._may_close = True

    def closeEvent(self, event: QCloseEvent) -> None:
        self.preferences.set_geometry(self.saveGeometry())
        if self._may_close:
            event.accept()
            return
        # Stop the recording and save before the window goes: the app closes it afterwards.
        event.ignore()
        self.close_requested.emit()


async def wait_closed(window: MainWindow) -> None:
    """Resolve when the person asks to close the window."""
    requested = asyncio.Event()
    window.close_requested.connect(requested.set)
    await requested.wait()
