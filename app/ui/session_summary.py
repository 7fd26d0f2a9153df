"""The main window's status bar: one line with the recorder's state and "Session details",
whose tooltip lists the engine, the session id and the autosave file of the recording."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from app.core.recording import RecorderState

STATE_TEXT = {
    RecorderState.IDLE: "Ready",
    RecorderState.STARTING: "Connecting…",
    RecorderState.RECORDING: "Recording",
    RecorderState.STOPPING: "Finishing the last words…",
}


class SessionSummary:
    """Puts its two labels in ``window``'s status bar and keeps them up to date."""

    def __init__(self, window: QMainWindow) -> None:
        self.state_label = QLabel(STATE_TEXT[RecorderState.IDLE], window)
        self.state_label.setObjectName("recorderState")
        self.details_label = QLabel(window)
        self.details_label.setObjectName("sessionSummary")
        status = window.statusBar()
        status.addWidget(self.state_label)
        status.addPermanentWidget(self.details_label)
        self._details: dict[str, str] = {}

    def show_state(self, state: RecorderState, engine_text: str) -> None:
        """The recorder's state; ``engine_text`` (where the audio goes) joins the details of
        a recording that starts."""
        self.state_label.setText(STATE_TEXT[state])
        if state is RecorderState.STARTING:
            # A new recording: the last one's details go, except the autosave path, which the
            # controller announces just before this state.
            self._details = {k: v for k, v in self._details.items() if k == "Autosave"}
        if state in (RecorderState.STARTING, RecorderState.RECORDING):
            self.detail("Engine", engine_text)

    def detail(self, key: str, value: str) -> None:
        self._details[key] = value
        self.details_label.setText("Session details" if self._details else "")
        self.details_label.setToolTip("\n".join(f"{k}: {v}" for k, v in self._details.items()))
