"""Where the audio goes: one indicator naming the engine in use and its state.

"AssemblyAI cloud (EU) · key valid", "On this computer · Whisper tiny.en", "… reconnecting…",
"Offline fallback · on this computer": the wording and the colour come from
:func:`app.core.policy.engine_status`; this widget only paints them. The key's state is part of
the sentence when the audio goes to the cloud, so the indicator never contradicts what runs.

Accessibility (measured on AT-SPI with Qt 6.11, ``shared/CI-RECIPES.md``): a ``QLabel`` with an
``accessibleName`` is announced by that name and its shown text becomes unreachable. The group
is named with the sentence itself, the label inside keeps no name (it reads as its text) and
carries the detail in its ``accessibleDescription``. The dot is painted here rather than put
in a child label, so there is no nameless image for a screen reader to stop on. A change is
announced: a label that changes out of focus is silent.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QColor,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.core.policy import EngineStatus, Tone

DOT_DIAMETER = 10
_GAP = 6

DOT_COLOURS: dict[Tone, QColor] = {
    Tone.GOOD: QColor(0x2E, 0x9D, 0x3A),
    Tone.LOCAL: QColor(0x3A, 0x7B, 0xD5),
    Tone.PENDING: QColor(0x8A, 0x8A, 0x8A),  # mid grey: visible on light and dark windows
    Tone.WARNING: QColor(0xE0, 0x7B, 0x00),
    Tone.PROBLEM: QColor(0xD9, 0x3A, 0x2B),
}


class EngineStatusIndicator(QWidget):
    """Shows one :class:`EngineStatus`; the owner calls :meth:`set_status` when it changes."""

    def __init__(self, status: EngineStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("engineStatus")
        self._label = QLabel(self)
        self._label.setObjectName("engineStatusText")
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(DOT_DIAMETER + _GAP, 0, 0, 0)
        layout.addWidget(self._label)
        self._status = status
        self._show(status)

    @property
    def status(self) -> EngineStatus:
        return self._status

    @property
    def label(self) -> QLabel:
        return self._label

    def set_status(self, status: EngineStatus) -> None:
        if status == self._status:
            return
        self._status = status
        self._show(status)
        if self.isVisible():
            spoken = status.text.replace(" · ", ", ")
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self, spoken))

    def dot_colour(self) -> QColor:
        return DOT_COLOURS[self._status.tone]

    def _show(self, status: EngineStatus) -> None:
        self._label.setText(status.text)
        self._label.setAccessibleDescription(status.detail)
        self.setAccessibleName(status.text)
        self.setAccessibleDescription(status.detail)
        self.setToolTip(status.detail)  # the label has none, so hovering it shows this one
        self.update()

    # --- Qt overrides ----------------------------------------------------------------------

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return hint.expandedTo(QSize(DOT_DIAMETER, DOT_DIAMETER))

    def paintEvent(self, event: QPaintEvent) -> None:
        colour = self.dot_colour()
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            top = (self.height() - DOT_DIAMETER) / 2
            dot = QRectF(0.5, top + 0.5, DOT_DIAMETER - 1, DOT_DIAMETER - 1)
            if self._status.tone is Tone.PENDING:
                # A ring, not a disc: "not decided yet" must not rely on colour alone.
                painter.setPen(QPen(colour, 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(dot.adjusted(1, 1, -1, -1))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
                painter.drawEllipse(dot)
        finally:
            painter.end()
