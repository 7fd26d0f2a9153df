"""Find in the transcript: every match highlighted, next/previous, "3 of 12", Escape closes.

Enter and F3 go to the next match, Shift+Enter and Shift+F3 to the previous one. The matches
are extra selections of the transcript view, so the document (and a copy) never changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QWidget,
)

_ALL = QColor(0xFF, 0xE0, 0x66)  # a marker yellow: readable under dark and light text alike
_CURRENT = QColor(0xFF, 0x9F, 0x1A)


class FindBar(QWidget):
    def __init__(self, view: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self._view = view
        self._matches: list[QTextCursor] = []
        self._current = -1
        self.field = QLineEdit(self)
        self.field.setObjectName("findField")
        self.field.setAccessibleName("Find in transcript")
        self.field.setPlaceholderText("Find in transcript")
        self.field.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("findCount")
        self.previous_button = self._button("findPrevious", "↑", "Previous match (Shift+F3)")
        self.next_button = self._button("findNext", "↓", "Next match (F3)")
        self.close_button = self._button("findClose", "✕", "Close find (Escape)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count_label)
        for button in (self.previous_button, self.next_button, self.close_button):
            layout.addWidget(button)
        self.field.textChanged.connect(lambda _text: self.search())
        self.field.installEventFilter(self)
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.close_button.clicked.connect(self.close_bar)
        for keys, slot in (("F3", self.next), ("Shift+F3", self.previous)):
            shortcut = QShortcut(QKeySequence(keys), parent or self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
        view.document().contentsChanged.connect(self._refresh_if_open)
        self.hide()

    def _button(self, name: str, text: str, label: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setAccessibleName(label.split(" (")[0])
        button.setToolTip(label)
        return button

    # --- opening and closing ---------------------------------------------------------------

    def open_bar(self) -> None:
        self.show()
        self.field.setFocus()
        self.field.selectAll()
        self.search()

    def close_bar(self) -> None:
        self.hide()
        self._matches, self._current = [], -1
        self._view.setExtraSelections([])
        self._view.setFocus()

    # --- searching ------------------------------------------------------------------------

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def current_index(self) -> int:
        return self._current

    def search(self) -> None:
        needle = self.field.text()
        self._matches = []
        doc = self._view.document()
        if needle:
            cursor = doc.find(needle, 0)
            while not cursor.isNull():
                self._matches.append(cursor)
                cursor = doc.find(needle, cursor)
        self._current = 0 if self._matches else -1
        self._show()

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if not self.isVisible():
            self.open_bar()
            return
        if self._matches:
            self._current = (self._current + delta) % len(self._matches)
        self._show()

    def _refresh_if_open(self) -> None:
        if self.isVisible() and self.field.text():
            current = self._current
            self.search()
            if self._matches and 0 <= current < len(self._matches):
                self._current = current
                self._show()

    def _show(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        for index, cursor in enumerate(self._matches):
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(_CURRENT if index == self._current else _ALL)
            fmt.setForeground(QColor(0, 0, 0))
            selection.format = fmt
            selection.cursor = cursor
            selections.append(selection)
        self._view.setExtraSelections(selections)
        if self._current >= 0:
            shown = QTextCursor(self._matches[self._current])
            shown.clearSelection()
            self._view.setTextCursor(shown)
            self._view.ensureCursorVisible()
        if not self.field.text():
            text = ""
        elif not self._matches:
            text = "No matches"
        else:
            text = f"{self._current + 1} of {len(self._matches)}"
        self.count_label.setText(text)
        self.field.setAccessibleDescription(text)

    # --- keys in the field ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                self.previous() if shift else self.next()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return super().eventFilter(watched, event)
