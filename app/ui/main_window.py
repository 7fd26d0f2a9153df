"""The main window: device and engine pickers, where the audio goes, the message bar, the live
transcript with find, recording feedback, copy/save/clear, and the menus.

It renders the controller's signals and calls its slots; it owns no task and does no I/O.
Every interactive widget has a stable ``objectName`` for automation and a human-readable
accessible name for screen readers (status widgets expose their visible text instead).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import short_clock
from app.core.config import EngineChoice
from app.core.devices import DeviceChoice, InputDevice
from app.core.policy import Action, Message
from app.core.recording import RecorderState
from app.core.transcript import TranscriptChange
from app.ui import menus
from app.ui.caption_overlay import CaptionOverlay
from app.ui.controller import AppController
from app.ui.device_picker import DevicePicker
from app.ui.engine_status import EngineStatusIndicator
from app.ui.file_flow import FileFlow, FileProgressPanel
from app.ui.find_bar import FindBar
from app.ui.history_dialog import HistoryDialog
from app.ui.level_meter import LevelMeter
from app.ui.message_bar import MessageBar
from app.ui.preferences import Preferences
from app.ui.recording_dot import RecordingDot
from app.ui.recovery import RecoveryOffer
from app.ui.session_summary import SessionSummary
from app.ui.transcript_commands import TranscriptCommands
from app.ui.transcript_view import TranscriptView

WINDOW_TITLE = "Live Transcriber"
PLACEHOLDER = "Press Start recording (Ctrl+R) and speak"
_ENGINES = {
    EngineChoice.AUTO: "Automatic",
    EngineChoice.CLOUD: "AssemblyAI (cloud)",
    EngineChoice.OFFLINE: "Offline (this computer)",
}


class MainWindow(QMainWindow):
    close_requested = Signal()  # the app decides when the window really closes (after cleanup)
    settings_requested = Signal()

    def __init__(self, controller: AppController, preferences: Preferences,
                 icon: QIcon | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.preferences = preferences
        self.recovery = RecoveryOffer(controller, self)
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
        self.commands.set_zoom(preferences.zoom())
        self._render_state(RecorderState.IDLE)
        self.engine_status.set_status(controller.engine_status)
        self._update_transcript_actions()

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)

        top = QHBoxLayout()
        device_label = QLabel("&Input device:", central)
        self.device_picker = DevicePicker(central)
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
        self.settings_button = QPushButton("Se&ttings…", central)
        self.settings_button.setObjectName("settingsButton")
        self.settings_button.setAccessibleName("Settings")
        top.addWidget(device_label)
        top.addWidget(self.device_picker, 3)  # long source names get the room there is
        for widget in (self.refresh_button, engine_label, self.engine_picker,
                       self.settings_button):
            top.addWidget(widget)
        layout.addLayout(top)

        # Where the audio goes: its own row, so the sentence is never cut and the row above
        # does not shift as it changes.
        self.engine_status = EngineStatusIndicator(self.controller.engine_status, central)
        layout.addWidget(self.engine_status)

        self.message_bar = MessageBar(central)
        layout.addWidget(self.message_bar)
        self.device_notice = QLabel(central)
        self.device_notice.setObjectName("deviceNotice")
        self.device_notice.setWordWrap(True)
        self.device_notice.hide()
        layout.addWidget(self.device_notice)
        self.file_panel = FileProgressPanel(central)
        layout.addWidget(self.file_panel)

        self.transcript_view = TranscriptView(self.controller.model, central)
        self.transcript_view.set_show_timestamps(self.preferences.show_timestamps())
        self.transcript_view.setPlaceholderText(PLACEHOLDER)
        # Messages come first when space is short: the pane can shrink to three lines.
        self.transcript_view.setMinimumHeight(3 * self.transcript_view.fontMetrics().lineSpacing())
        self.find_bar = FindBar(self.transcript_view, central)
        self.commands = TranscriptCommands(self, self.controller, self.preferences,
                                           self.transcript_view)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.transcript_view, 1)

        bottom = QHBoxLayout()
        self.record_button = QPushButton(central)
        self.record_button.setObjectName("recordButton")
        self.record_button.setMinimumWidth(120)
        self.recording_dot = RecordingDot(central)
        self.elapsed_label = self.recording_dot.elapsed_label
        level_label = QLabel("Input level:", central)
        self.level_meter = LevelMeter(central)
        self.level_meter.setMaximumWidth(160)
        level_label.setBuddy(self.level_meter)
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
        for part in (self.record_button, self.recording_dot, level_label, self.level_meter,
                     self.dropped_label):
            bottom.addWidget(part)
        bottom.addStretch(1)
        for button in (self.copy_button, self.save_button, self.clear_button):
            bottom.addWidget(button)
        layout.addLayout(bottom)
        self.setCentralWidget(central)

        # The status bar is one line: the state and a session summary, details in tooltips.
        self.session_summary = SessionSummary(self)
        self.connection_label = self.session_summary.state_label
        self.session_label = self.session_summary.details_label

        order = (self.device_picker, self.refresh_button, self.engine_picker,
                 self.settings_button, self.transcript_view, self.record_button,
                 self.copy_button, self.save_button, self.clear_button)
        for before, after in zip(order, order[1:], strict=False):
            self.setTabOrder(before, after)

        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(500)
        self._elapsed_timer.timeout.connect(self._tick)

        self.file_flow = FileFlow(self.controller, self.file_panel, self,
                                  (self.transcript_view, self.transcript_view.viewport()))
        self.actions_by_name = menus.build_menus(self, {
            "open_file": self.file_flow.choose_file,
            "save": self.commands.save, "save_as": self.commands.save_dialog,
            "quit": self.close,
            "record": self.record_button.click, "preferences": self.settings_requested.emit,
            "copy": self.commands.copy_all, "find": self.find_bar.open_bar,
            "clear": self.commands.clear_with_confirmation,
            "zoom_in": lambda: self.commands.set_zoom(self.commands.zoom + 1),
            "zoom_out": lambda: self.commands.set_zoom(self.commands.zoom - 1),
            "zoom_reset": lambda: self.commands.set_zoom(0),
            "timestamps": self._timestamps_toggled, "captions": self._captions_toggled,
            "shortcuts": lambda: menus.show_shortcuts(self, self.actions_by_name),
            "about": self._about, "history": self.open_history,
        })
        self.actions_by_name["timestamps"].setChecked(self.transcript_view.show_timestamps)
        self.file_flow.busy_changed.connect(self._file_busy)
        self.caption_overlay: CaptionOverlay | None = None
        self.actions_by_name["captions"].setChecked(self.preferences.caption_shown())

    def _connect(self) -> None:
        c = self.controller
        c.state_changed.connect(self._render_state)
        c.transcript_changed.connect(self._on_change)
        c.transcript_reset.connect(self._reload)
        c.level_changed.connect(self._on_level)
        c.engine_status_changed.connect(self.engine_status.set_status)
        c.message_changed.connect(self._show_message)
        c.devices_changed.connect(self._show_devices)
        c.session_changed.connect(lambda sid: self.session_summary.detail("Session", sid))
        c.autosave_changed.connect(lambda path: self.session_summary.detail("Autosave", path))
        c.dropped_changed.connect(self._show_dropped)
        self.message_bar.action_triggered.connect(self._on_message_action)
        self.recovery.offer_changed.connect(lambda m: self._show_message("recovery", m))
        self.recovery.outcome.connect(lambda m: self.message_bar.show_message("recoveryDone", m))
        self.record_button.clicked.connect(self._record_clicked)
        self.refresh_button.clicked.connect(lambda: c.spawn(c.refresh_devices()))
        self.device_picker.activated.connect(self._device_chosen)
        self.engine_picker.activated.connect(self._engine_chosen)
        self.copy_button.clicked.connect(self.commands.copy_all)
        self.save_button.clicked.connect(self.commands.save_dialog)
        self.clear_button.clicked.connect(self.commands.clear_with_confirmation)
        self.settings_button.clicked.connect(self.settings_requested.emit)

    # --- rendering ------------------------------------------------------------------------

    def _render_state(self, state: RecorderState) -> None:
        recording = state in (RecorderState.STARTING, RecorderState.RECORDING)
        self.record_button.setText("&Stop recording" if recording else "&Start recording")
        self.record_button.setEnabled(not state.busy)
        for widget in (self.device_picker, self.engine_picker, self.refresh_button,
                       self.clear_button):
            widget.setEnabled(state is RecorderState.IDLE)
        self.actions_by_name["clear"].setEnabled(state is RecorderState.IDLE)
        self.actions_by_name["open_file"].setEnabled(state is RecorderState.IDLE)
        self.session_summary.show_state(state, self.controller.engine_status.text)
        self.recording_dot.set_recording(state is RecorderState.RECORDING)
        if state is RecorderState.RECORDING:
            self._elapsed_timer.start()
        else:
            self._elapsed_timer.stop()
            self.level_meter.reset()  # no capture, no level: never frozen at the last one
        self._tick()

    def _tick(self) -> None:
        self.recording_dot.set_elapsed(short_clock(int(self.controller.elapsed_seconds * 1000)))

    def _on_level(self, rms: float, peak: float) -> None:
        if self.controller.state is RecorderState.RECORDING:
            self.level_meter.set_level(rms, peak)

    def _on_change(self, change: TranscriptChange) -> None:
        self.transcript_view.apply(change)
        self._update_transcript_actions()
        self._refresh_captions()

    def _reload(self) -> None:
        self.transcript_view.load(self.controller.model.turns())
        self._update_transcript_actions()
        self._refresh_captions()

    def _update_transcript_actions(self) -> None:
        has_text = self.controller.model.has_final_text
        for widget in (self.copy_button, self.save_button):
            widget.setEnabled(has_text)
        for name in ("copy", "save", "save_as"):
            self.actions_by_name[name].setEnabled(has_text)

    def _show_message(self, slot: str, message: Message | None) -> None:
        if message is None:
            self.message_bar.clear(slot)
        else:
            self.message_bar.show_message(slot, message)

    def _show_devices(self, devices: list[InputDevice], choice: DeviceChoice) -> None:
        self.device_picker.show_devices(devices, choice)
        self.device_notice.setText(choice.notice)
        self.device_notice.setVisible(bool(choice.notice))

    def _show_dropped(self, dropped: int) -> None:
        self.dropped_label.setText(f"{dropped} audio frames dropped")
        self.dropped_label.setVisible(dropped > 0)

    # --- actions --------------------------------------------------------------------------

    def _on_message_action(self, slot: str, action: Action) -> None:
        c = self.controller
        if action is Action.OPEN_SETTINGS:
            self.settings_requested.emit()
        elif action is Action.RETRY:
            self.message_bar.clear(slot)
            if c.state is RecorderState.IDLE:
                c.start_recording()
        elif action is Action.SWITCH_OFFLINE:
            self.message_bar.clear(slot)
            self.engine_picker.setCurrentIndex(
                self.engine_picker.findData(EngineChoice.OFFLINE.value))
            self.preferences.save(c.set_engine(EngineChoice.OFFLINE))
        elif action is Action.RESTORE:
            c.spawn(self.recovery.restore())
        elif action is Action.DISMISS and slot == "recovery":
            c.spawn(self.recovery.dismiss())

    def _file_busy(self, busy: bool) -> None:
        # Offline, the file is a recording (its Stop cancels); in the cloud it is not.
        self.actions_by_name["open_file"].setEnabled(not busy)
        self.record_button.setEnabled(not busy or self.controller.state is not RecorderState.IDLE)

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

    def _timestamps_toggled(self) -> None:
        on = self.actions_by_name["timestamps"].isChecked()
        self.transcript_view.set_show_timestamps(on)
        self.preferences.set_show_timestamps(on)

    def _captions_toggled(self) -> None:
        on = self.actions_by_name["captions"].isChecked()
        if on and self.caption_overlay is None:
            self.caption_overlay = CaptionOverlay(self.controller.model, self.preferences)
            self.caption_overlay.closed.connect(self._caption_closed)
            self.caption_overlay.show()
            self._refresh_captions()
        elif not on and self.caption_overlay is not None:
            # Destroyed, not hidden: a hidden window stays listed for screen readers.
            overlay, self.caption_overlay = self.caption_overlay, None
            overlay.close()
            overlay.deleteLater()
        self.preferences.set_caption_shown(on)

    def _caption_closed(self) -> None:
        if self.caption_overlay is not None:  # closed from its own menu
            self.caption_overlay.deleteLater()
            self.caption_overlay = None
            self.actions_by_name["captions"].setChecked(False)

    def _refresh_captions(self) -> None:
        if self.caption_overlay is not None and self.caption_overlay.isVisible():
            self.caption_overlay.refresh()

    def open_history(self) -> HistoryDialog | None:
        store = self.controller.history
        if store is None:
            return None
        dialog = HistoryDialog(self.controller, store, self.preferences, self)
        dialog.finished.connect(lambda _result: dialog.deleteLater())
        dialog.open()
        self.controller.spawn(dialog.load())
        return dialog

    def _about(self) -> None:
        data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        menus.show_about(self, Path(data) / "transcripts", self.preferences.file_name())

    # --- closing --------------------------------------------------------------------------

    def allow_close(self) -> None:
        """Called by the app once the controller has shut down: the next close goes through."""
        self._may_close = True

    def closeEvent(self, event: QCloseEvent) -> None:
        self.preferences.set_geometry(self.saveGeometry())
        if self._may_close:
            if self.caption_overlay is not None:
                self.caption_overlay.close()
            event.accept()
            return
        # Stop the recording and save before the window goes: the app closes it afterwards.
        event.ignore()
        self.close_requested.emit()

