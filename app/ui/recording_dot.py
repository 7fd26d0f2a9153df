"""The recording indicator: a red dot and the elapsed time while recording, grey when not.

The dot is painted, not an image label, so a screen reader meets only the time label, which
reads as its text; the group's name says what the time is.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

DOT = 12
_GAP = 6
RED = QColor(0xD9, 0x3A, 0x2B)
GREY = QColor(0x8A, 0x8A, 0x8A)


class RecordingDot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordingIndicator")
        self.setAccessibleName("Recording time")
        self.elapsed_label = QLabel("00:00", self)
        self.elapsed_label.setObjectName("elapsedTime")
        # Digits of one width keep the row still as the time changes.
        font = self.elapsed_label.font()
        font.setStyleHint(font.StyleHint.Monospace)
        font.setFamily("monospace")
        self.elapsed_label.setFont(font)
        self.elapsed_label.setMinimumWidth(
            self.elapsed_label.fontMetrics().horizontalAdvance("0:00:00") + 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(DOT + _GAP, 0, 0, 0)
        layout.addWidget(self.elapsed_label)
        self._recording = False
        self.setToolTip("Not recording")

    @property
    def recording(self) -> bool:
        return self._recording

    def set_recording(self, recording: bool) -> None:
        self._recording = recording
        self.setToolTip("Recording" if recording else "Not recording")
        self.elapsed_label.setAccessibleDescription("Recording" if recording else "")
        self.update()

    def set_elapsed(self, text: str) -> None:
        self.elapsed_label.setText(text)

    def dot_colour(self) -> QColor:
        return RED if self._recording else GREY

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().expandedTo(QSize(DOT, DOT))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            top = (self.height() - DOT) / 2
            dot = QRectF(0.5, top + 0.5, DOT - 1, DOT - 1)
            painter.setPen(Qt.PenStyle.NoPen if self._recording else GREY)
            painter.setBrush(RED if self._recording else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(dot)
        finally:
            painter.end()
