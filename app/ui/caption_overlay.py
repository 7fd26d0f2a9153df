"""The caption strip: an always-on-top, frameless, translucent window with the last words in
large text, for reading captions over a call, a video or a lecture.

It shows the newest finished paragraph and the turn in progress (in italics, as in the pane),
cut from the front to what fits in two lines. Drag it to move it, drag the corner grip to
resize, and use its context menu (or Ctrl+wheel / the wheel) for text size and opacity; size,
position, text size and opacity are remembered. On desktops that ignore always-on-top (some
Wayland compositors) it is an ordinary window.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QLabel, QMenu, QSizeGrip, QVBoxLayout, QWidget

from app.core.transcript import TranscriptModel, paragraph_text
from app.ui.preferences import Preferences

LINES = 2
FONT_RANGE = (14, 72)
OPACITY_RANGE = (0.3, 1.0)


def tail_that_fits(text: str, metrics: QFontMetrics, width: int, lines: int = LINES) -> str:
    """The end of ``text`` that fills at most ``lines`` lines of ``width`` pixels, cut at a
    word and marked with "…" when something was left out."""
    words = text.split()
    kept: list[str] = []
    used_lines, line = 1, ""
    for word in reversed(words):
        candidate = f"{word} {line}".strip()
        if metrics.horizontalAdvance(candidate) <= width or not line:
            line = candidate
        elif used_lines < lines:
            used_lines, line = used_lines + 1, word
        else:
            return "… " + " ".join(reversed(kept))
        kept.append(word)
    return " ".join(reversed(kept))


class CaptionOverlay(QWidget):
    closed = Signal()  # the person closed the strip (the View menu's check follows)

    def __init__(self, model: TranscriptModel, preferences: Preferences) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("captionOverlay")
        self.setAccessibleName("Captions")
        self.setWindowTitle("Captions — Live Transcriber")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self._model = model
        self._preferences = preferences
        self._drag_from: QPoint | None = None
        self.label = QLabel(self)
        self.label.setObjectName("captionText")
        self.label.setTextFormat(Qt.TextFormat.RichText)  # built from escaped text only
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.label.setStyleSheet("color: white;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addWidget(self.label, 1)
        self._grip = QSizeGrip(self)  # in the corner, over the margin: no row of its own
        self._opacity = preferences.caption_opacity()
        self.set_point_size(preferences.caption_point_size())
        geometry = preferences.caption_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(900, 150)

    # --- content ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the newest words of the model (call after every change)."""
        # The newest final with text, found from the end: the strip is refreshed on every
        # change, and an hour of recording holds thousands of finals.
        texts = (paragraph_text(turn.text) for turn in reversed(self._model.finals))
        final = next((text for text in texts if text), "")
        partial = self._model.partial
        live = paragraph_text(partial.text) if partial is not None else ""
        # A margin for the italic words (wider) and for where QLabel itself breaks lines.
        width = max(int(self.label.width() * 0.85), 100)
        shown = tail_that_fits(f"{final} {live}".strip(), self.label.fontMetrics(), width)
        # Split the kept words back into finished and in-progress parts for styling.
        live_words = len(live.split())
        words = shown.split()
        done, going = (words[:-live_words], words[-live_words:]) if live_words else (words, [])
        markup = html.escape(" ".join(done))
        if going:
            markup += f" <i style='color:#d0d0d0'>{html.escape(' '.join(going))}</i>"
        self.label.setText(markup)
        self.label.setAccessibleName(shown or "No captions yet")

    @property
    def shown_text(self) -> str:
        return self.label.accessibleName()

    # --- size and opacity ------------------------------------------------------------------

    @property
    def opacity(self) -> float:
        return self._opacity

    def set_opacity(self, value: float) -> None:
        self._opacity = max(OPACITY_RANGE[0], min(OPACITY_RANGE[1], value))
        self._preferences.set_caption_opacity(self._opacity)
        self.update()

    def set_point_size(self, size: int) -> None:
        size = max(FONT_RANGE[0], min(FONT_RANGE[1], size))
        font = QFont(self.label.font())
        font.setPointSize(size)
        self.label.setFont(font)
        self._preferences.set_caption_point_size(size)
        self.refresh()

    # --- Qt overrides ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, round(255 * self._opacity)))
            painter.drawRoundedRect(self.rect(), 10, 10)
        finally:
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        hint = self._grip.sizeHint()
        self._grip.move(self.width() - hint.width(), self.height() - hint.height())
        self.refresh()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self.move(event.globalPosition().toPoint() - self._drag_from)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self._preferences.set_caption_geometry(self.saveGeometry())

    def wheelEvent(self, event: QWheelEvent) -> None:
        step = 1 if event.angleDelta().y() > 0 else -1
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_point_size(self.label.font().pointSize() + 2 * step)
        else:
            self.set_opacity(self._opacity + 0.1 * step)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        size = self.label.font().pointSize()
        menu.addAction("Larger text", lambda: self.set_point_size(size + 4))
        menu.addAction("Smaller text", lambda: self.set_point_size(size - 4))
        menu.addAction("More opaque", lambda: self.set_opacity(self._opacity + 0.1))
        menu.addAction("More transparent", lambda: self.set_opacity(self._opacity - 0.1))
        menu.addSeparator()
        menu.addAction("Close caption strip", self.close)
        menu.exec(event.globalPos())

    def closeEvent(self, event: QCloseEvent) -> None:
        self._preferences.set_caption_geometry(self.saveGeometry())
        super().closeEvent(event)
        self.closed.emit()
