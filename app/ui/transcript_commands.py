"""What the window does with the transcript: copy, save (Ctrl+S to the same file again, Save
As… asking where), clear with confirmation, and zoom (remembered).

Saving goes through the controller, which writes off the UI thread; a failure reaches the
message bar like every other error.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app.core.errors import ExportError
from app.core.export import Format
from app.ui import save_flow
from app.ui.controller import AppController
from app.ui.preferences import Preferences
from app.ui.transcript_view import TranscriptView

ZOOM_STEP_PT = 2
ZOOM_RANGE = (-3, 12)


class TranscriptCommands:
    def __init__(self, window: QMainWindow, controller: AppController, preferences: Preferences,
                 view: TranscriptView) -> None:
        self._window = window
        self._controller = controller
        self._preferences = preferences
        self._view = view
        self._saved_to: tuple[Path, Format] | None = None
        self._base_point_size = view.font().pointSizeF()
        self._zoom = 0

    @property
    def has_text(self) -> bool:
        return self._controller.model.has_final_text

    @property
    def zoom(self) -> int:
        return self._zoom

    def set_zoom(self, steps: int) -> None:
        self._zoom = max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], steps))
        font = self._view.font()
        font.setPointSizeF(self._base_point_size + ZOOM_STEP_PT * self._zoom)
        self._view.setFont(font)
        self._preferences.set_zoom(self._zoom)

    def copy_all(self) -> None:
        text = self._controller.model.plain_text(include_partial=False)
        if not text:
            return
        QGuiApplication.clipboard().setText(text)
        self._window.statusBar().showMessage("Transcript copied to the clipboard.", 3000)

    def save(self) -> None:
        """Ctrl+S: to the file saved last time, else ask where."""
        if self._saved_to is None:
            self.save_dialog()
        else:
            self._controller.spawn(self.save_to(*self._saved_to))

    def save_dialog(self) -> None:
        if not self._controller.model.has_final_text:
            return
        name = save_flow.default_name(self._controller.recording_started)
        path_text, chosen_filter = QFileDialog.getSaveFileName(
            self._window, "Save transcript", str(self._preferences.last_folder() / name),
            ";;".join(save_flow.FILTERS.values()))
        if path_text:
            self._controller.spawn(self.save_to(*save_flow.resolve(path_text, chosen_filter)))

    async def save_to(self, path: Path, fmt: Format) -> bool:
        try:
            await self._controller.save_transcript(path, fmt)
        except ExportError as exc:
            self._controller.on_error(exc)
            return False
        self._saved_to = (path, fmt)
        self._preferences.set_last_folder(path.parent)
        self._window.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    def clear_with_confirmation(self) -> None:
        if self._controller.unsaved:
            answer = QMessageBox.question(
                self._window, "Clear transcript",
                "The transcript has not been saved. Clear it anyway? (The autosave file "
                "is kept.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._saved_to = None
        self._controller.clear_transcript()
