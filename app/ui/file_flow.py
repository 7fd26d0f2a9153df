"""Transcribing an audio or video file in the window: File > Open audio or video file…
(Ctrl+O) or a file dropped onto the window.

* **Offline** (the Offline engine, or Automatic without a key, or Automatic when AssemblyAI
  cannot be reached): the file goes through the same recording pipeline as a microphone, decoded
  as fast as the engine takes it (back-pressure, nothing dropped), so the result lands in the
  pane and in the history like a recording, with timestamps from the file's own timeline.
* **Cloud** (the Cloud engine, or Automatic with a key): the file is uploaded to AssemblyAI's
  pre-recorded API, which reads it far faster than real time; its paragraphs land in the pane
  and are written to the history as one recording.

A panel under the message bar shows the file, a progress bar, the time left (the pace so far
applied to what remains) and Cancel. A file that cannot be used — unreadable, not audio, no
audio track, empty, removed while read — gives one sentence in the message bar and leaves
nothing behind: a file that fails partway has its partial transcript removed. A file's
transcript starts in an empty pane (the previous recording is already in the history).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import policy
from app.core.config import EngineChoice
from app.core.errors import AudioError, ConnectionFailedError, LiveTranscriberError
from app.core.messages import Turn
from app.core.policy import Action, Message, Severity
from app.core.recording import RecorderState
from app.core.sources import PaceEstimate, format_clock, progress_percent
from app.ui.controller import AppController

log = logging.getLogger(__name__)

MEDIA_FILTER = ("Audio and video files (*.wav *.flac *.mp3 *.ogg *.oga *.opus *.m4a *.aac "
                "*.mp4 *.m4v *.mov *.mkv *.webm);;All files (*)")


class FileProgressPanel(QFrame):
    """The file being transcribed: its name, a progress bar, the time left, and Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fileProgressPanel")
        self.setAccessibleName("File transcription")
        self.title = QLabel(self)
        self.title.setObjectName("fileTitle")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("fileProgress")
        self.bar.setAccessibleName("File progress")
        self.bar.setRange(0, 100)
        self.detail = QLabel(self)
        self.detail.setObjectName("fileTimeLeft")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelFileButton")
        self.cancel_button.setAccessibleName("Cancel file transcription")
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.detail)
        self.hide()

    def begin(self, name: str) -> None:
        self.title.setText(f"Transcribing {name}")
        self.set_progress(0, "Starting…")
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.show()

    def set_progress(self, percent: int | None, detail: str) -> None:
        """``None``: busy with no figure to show (the service is working on it)."""
        self.detail.setText(detail)
        self.bar.setAccessibleDescription(detail)
        if percent is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(percent)

    def finish(self, title: str, detail: str, percent: int | None) -> None:
        self.title.setText(title)
        self.set_progress(percent if percent is not None else self.bar.value(), detail)
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 100)
        self.cancel_button.hide()


class FileFlow(QObject):
    """Opens files for the window and runs them to the end, owning nothing but its panel:
    the recording itself is the controller's (its task, its Stop)."""

    finished = Signal(str)  # "done", "cancelled" or "failed", once per file
    busy_changed = Signal(bool)  # a file is being transcribed: no recording, no other file

    def __init__(self, controller: AppController, panel: FileProgressPanel,
                 window: QWidget, drop_targets: tuple[QWidget, ...] = ()) -> None:
        super().__init__(window)
        self.controller = controller
        self.panel = panel
        self._window = window
        self._busy = False
        self._cancelled = False
        self._cloud: asyncio.Future[list[Turn]] | None = None
        self._began = 0.0
        self._percent: int | None = -1
        panel.cancel_requested.connect(self.cancel)
        controller.state_changed.connect(self._recording_state)
        for target in (window, *drop_targets):
            target.setAcceptDrops(True)
            target.installEventFilter(self)

    @property
    def busy(self) -> bool:
        return self._busy

    def choose_file(self) -> None:
        dialog = QFileDialog(self._window, "Open audio or video file")
        dialog.setObjectName("openFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter(MEDIA_FILTER)
        dialog.fileSelected.connect(lambda name: self.open_file(Path(name)))
        dialog.finished.connect(lambda _result: dialog.deleteLater())
        dialog.open()

    def open_file(self, path: Path) -> bool:
        """Start transcribing ``path``; False (and a sentence why) when it cannot start now."""
        if self.controller.files is None:
            return False
        if self._busy or self.controller.state is not RecorderState.IDLE:
            self._say("error", Severity.WARNING, "Stop the recording or the file being "
                      "transcribed before opening another file.")
            return False
        self._busy, self._cancelled = True, False
        self.busy_changed.emit(True)
        self.controller.spawn(self._transcribe(path))
        return True

    def cancel(self) -> None:
        if not self._busy:
            return
        self._cancelled = True
        self.panel.cancel_button.setEnabled(False)
        self.panel.set_progress(None, "Cancelling…")
        if self._cloud is not None:
            self._cloud.cancel()
        else:
            self.controller.stop_recording()

    # --- drag and drop ----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDropEvent) and event.type() in (
                QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            mime = event.mimeData()
            local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
            if not local:
                return False
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.open_file(Path(local[0]))
            return True
        return super().eventFilter(watched, event)

    # --- the run ----------------------------------------------------------------------------

    async def _transcribe(self, path: Path) -> None:
        outcome = "failed"
        files = self.controller.files
        assert files is not None
        try:
            self._say("error", None, "")
            self._say("notice", None, "")
            try:
                await asyncio.to_thread(files.probe, path)
            except AudioError as exc:
                self._say("error", Severity.ERROR, str(exc))
                return
            plan = policy.plan_engine(self.controller.settings.engine, self.controller.has_key,
                                      policy.Surface.WINDOW)
            if plan.engine is None:
                self.controller.message_changed.emit("error", policy.refusal_message(plan))
                return
            if not self.controller.model.is_empty:
                self.controller.clear_transcript()  # it is in the history already
            if plan.engine is EngineChoice.CLOUD:
                try:
                    outcome = await self._in_cloud(path)
                    return
                except ConnectionFailedError as exc:
                    if not plan.fallback:
                        self._failed(exc, EngineChoice.CLOUD)
                        return
                    self._say("notice", Severity.WARNING, f"AssemblyAI could not be reached, so "
                              f"{path.name} is transcribed on this computer.")
                except LiveTranscriberError as exc:
                    self._failed(exc, EngineChoice.CLOUD)
                    return
            elif self.controller.settings.engine is EngineChoice.AUTO:
                self._say("notice", Severity.INFO, f"No AssemblyAI API key is set, so "
                          f"{path.name} is transcribed on this computer.")
            outcome = await self._offline(path, fallback=plan.engine is EngineChoice.CLOUD)
        finally:
            self._busy = False
            self.controller.file_busy = False
            self._cloud = None
            self.busy_changed.emit(False)
            self.finished.emit(outcome)

    def _recording_state(self, state: RecorderState) -> None:
        if state is RecorderState.STARTING and not self._busy:
            self.panel.hide()  # a recording from the microphone: the last file's panel goes

    async def _in_cloud(self, path: Path) -> str:
        self.controller.file_busy = True
        self.controller.show_file_engine(fallback=False)
        self.panel.begin(path.name)
        started = datetime.now()
        job = asyncio.ensure_future(self.controller.transcribe_in_cloud(path, self._stage))
        self._cloud = job
        try:
            turns = await job
        except asyncio.CancelledError:
            if not self._cancelled or not job.cancelled():
                raise  # the window is closing
            self.panel.finish(f"Cancelled {path.name}", "Nothing was transcribed.", 0)
            return "cancelled"
        self.controller.recording_started = started
        # Its own segment: turn orders restart at 0, and the cleared turns of an earlier
        # recording or file would otherwise make the first paragraphs look stale.
        self.controller.model.begin_session()
        for turn in turns:  # into the transcript as a recording's turns come
            change = self.controller.model.apply(turn)
            if change is not None:
                self.controller.on_transcript(change)
        files = self.controller.files
        assert files is not None
        try:
            await asyncio.to_thread(files.keep, self.controller.model.finals, started)
        except LiveTranscriberError as exc:  # the text is in the pane; only the copy failed
            self.controller.on_error(exc)
        self.panel.finish(f"Transcribed {path.name}", "Done by AssemblyAI.", 100)
        return "done"

    def _stage(self, text: str, percent: int | None) -> None:
        if self._busy and not self._cancelled:
            self.panel.set_progress(percent, text)

    async def _offline(self, path: Path, *, fallback: bool) -> str:
        files = self.controller.files
        assert files is not None
        self.controller.show_file_engine(fallback=fallback)
        self.panel.begin(path.name)
        loop = asyncio.get_running_loop()
        self._began, self._percent = loop.time(), -1
        position: list[tuple[int, int | None]] = [(0, None)]
        pace = PaceEstimate()

        def progress(position_ms: int, duration_ms: int | None) -> None:
            position[0] = (position_ms, duration_ms)
            percent = progress_percent(position_ms, duration_ms)
            if percent == self._percent or self._cancelled:
                return  # one update per percent: the decoder reports every 50 ms of audio
            self._percent = percent
            pace.add(loop.time() - self._began, position_ms)
            left = pace.left_ms(duration_ms)
            text = f"{format_clock(position_ms)}"
            if duration_ms:
                text += f" of {format_clock(duration_ms)}"
            if left is not None:
                text += f" · about {format_clock(left)} left"
            self.panel.set_progress(percent, text)

        source = files.make_source(path, progress, self.controller.room_for_audio)
        error = await self.controller.record_file(source)
        done_ms = position[0][0]
        took = format_clock(round((loop.time() - self._began) * 1000))
        if error is not None:
            autosave = self.controller.autosave_path
            if autosave is not None:
                try:
                    await asyncio.to_thread(files.discard, autosave)
                except LiveTranscriberError as exc:
                    log.warning("partial transcript left behind: %s", exc)
            self.controller.clear_transcript()
            self._failed(error, EngineChoice.OFFLINE)
            return "failed"
        if self.controller.stop_requested:
            self.panel.finish(f"Cancelled {path.name}",
                              f"Stopped at {format_clock(done_ms)}; the words so far are kept.",
                              None)
            return "cancelled"
        self.panel.finish(f"Transcribed {path.name}",
                          f"{format_clock(done_ms)} of audio in {took}.", 100)
        self._say("notice", Severity.INFO, f"{path.name} is transcribed: "
                  f"{format_clock(done_ms)} of audio in {took}.")
        return "done"

    def _failed(self, error: LiveTranscriberError, engine: EngineChoice) -> None:
        self.controller.on_error(error)  # the key's indicator follows (e.g. key rejected)
        message = policy.error_message(error, engine)
        # Retry would start the microphone: the way to retry a file is to open it again.
        actions = tuple(a for a in message.actions if a is not Action.RETRY)
        self.controller.message_changed.emit("error", Message(message.severity, message.text,
                                                              actions))
        if self.panel.isVisible():
            self.panel.finish("Could not transcribe the file", error.message, None)

    def _say(self, slot: str, severity: Severity | None, text: str) -> None:
        self.controller.message_changed.emit(
            slot, None if severity is None else Message(severity, text))
