"""History: every recording in the transcripts folder, newest first, to read, search, copy,
export in any format, or delete (after a confirmation).

The list shows date, duration, engine and first words; the search field keeps the recordings
whose transcript holds every word typed. Reading the folder and deleting run off the UI thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import LiveTranscriberError
from app.core.export import Format
from app.core.history import HistoryStore, RecordingSummary
from app.ui import save_flow
from app.ui.controller import AppController
from app.ui.preferences import Preferences


class HistoryDialog(QDialog):
    def __init__(self, controller: AppController, store: HistoryStore, preferences: Preferences,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle("History")
        self.resize(820, 520)
        self._controller = controller
        self._store = store
        self._preferences = preferences
        self._all: list[RecordingSummary] = []
        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setAccessibleName("Search all recordings")
        self.search.setPlaceholderText("Search all recordings")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setObjectName("historyList")
        self.list.setAccessibleName("Recordings")
        self.reader = QPlainTextEdit(self)
        self.reader.setObjectName("historyText")
        self.reader.setAccessibleName("Recording transcript")
        self.reader.setReadOnly(True)
        self.status = QLabel(self)
        self.status.setObjectName("historyStatus")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.list)
        splitter.addWidget(self.reader)
        splitter.setSizes([360, 460])
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setObjectName("historyCopy")
        self.copy_button.setAccessibleName("Copy recording")
        self.export_button = QPushButton("&Export…", self)
        self.export_button.setObjectName("historyExport")
        self.export_button.setAccessibleName("Export recording")
        self.delete_button = QPushButton("&Delete…", self)
        self.delete_button.setObjectName("historyDelete")
        self.delete_button.setAccessibleName("Delete recording")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (self.copy_button, self.export_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.search.textChanged.connect(lambda _text: self._fill())
        self.list.currentRowChanged.connect(lambda _row: self._show_selected())
        self.copy_button.clicked.connect(self.copy_selected)
        self.export_button.clicked.connect(self._export_clicked)
        self.delete_button.clicked.connect(self._delete_clicked)
        self._show_selected()

    # --- listing --------------------------------------------------------------------------

    async def load(self) -> None:
        self._all = await asyncio.to_thread(self._store.recordings)
        self._fill()

    def shown(self) -> list[RecordingSummary]:
        return [self._entry(self.list.item(i)) for i in range(self.list.count())]

    def selected(self) -> RecordingSummary | None:
        item = self.list.currentItem()
        return self._entry(item) if item is not None else None

    def _fill(self) -> None:
        query = self.search.text()
        shown = [r for r in self._all if r.matches(query)]
        self.list.clear()
        for recording in shown:
            item = QListWidgetItem(recording.label)
            item.setData(Qt.ItemDataRole.UserRole, len(self._all) - self._all.index(recording))
            item.setToolTip(str(recording.journal))
            self.list.addItem(item)
        if shown:
            self.list.setCurrentRow(0)
        what = f"{len(shown)} of {len(self._all)} recordings" if query else (
            f"{len(self._all)} recording{'' if len(self._all) == 1 else 's'}")
        self.status.setText(what)
        self._show_selected()

    def _entry(self, item: QListWidgetItem) -> RecordingSummary:
        return self._all[len(self._all) - int(item.data(Qt.ItemDataRole.UserRole))]

    def _show_selected(self) -> None:
        recording = self.selected()
        self.reader.setPlainText(recording.text if recording is not None else "")
        for button in (self.copy_button, self.export_button, self.delete_button):
            button.setEnabled(recording is not None)

    # --- actions --------------------------------------------------------------------------

    def copy_selected(self) -> None:
        recording = self.selected()
        if recording is not None:
            QGuiApplication.clipboard().setText(recording.text)
            self.status.setText("Copied to the clipboard.")

    def _export_clicked(self) -> None:
        recording = self.selected()
        if recording is None:
            return
        name = save_flow.default_name(recording.started)
        path_text, chosen = QFileDialog.getSaveFileName(
            self, "Export recording", str(self._preferences.last_folder() / name),
            ";;".join(save_flow.FILTERS.values()))
        if path_text:
            path, fmt = save_flow.resolve(path_text, chosen)
            self._controller.spawn(self.export(recording, path, fmt))

    async def export(self, recording: RecordingSummary, path: Path, fmt: Format) -> bool:
        try:
            await self._controller.export_turns(path, fmt, recording.turns)
        except LiveTranscriberError as exc:
            self.status.setText(str(exc))
            return False
        self._preferences.set_last_folder(path.parent)
        self.status.setText(f"Exported {path.name}.")
        return True

    def _delete_clicked(self) -> None:
        recording = self.selected()
        if recording is None:
            return
        answer = QMessageBox.question(
            self, "Delete recording",
            f"Delete the recording of {recording.started:%d %B %Y at %H:%M} and its text file? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self._controller.spawn(self.delete(recording))

    async def delete(self, recording: RecordingSummary) -> bool:
        try:
            await asyncio.to_thread(self._store.delete, recording)
        except LiveTranscriberError as exc:
            self.status.setText(str(exc))
            return False
        await self.load()
        return True
