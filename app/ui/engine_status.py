"""The API-key status: a coloured dot, a short text and a tooltip with the cause and the fix.

Accessibility (measured on AT-SPI with Qt 6.11, ``shared/CI-RECIPES.md``): a ``QLabel`` with
an ``accessibleName`` is announced by that name and its shown text becomes unreachable. So the
text label keeps no accessible name (it reads as the status text) and carries the cause and the
fix in its ``accessibleDescription``. The dot is painted by the indicator itself rather than put
in a child label, so there is no nameless image for a screen reader to stop on. A change of
state is also announced (``AuthStatus.spoken``): a label that changes out of focus is silent.
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

from app.core.auth import AuthState, AuthStatus, checking

DOT_DIAMETER = 10
_GAP = 6

_GREEN = QColor(0x2E, 0x9D, 0x3A)
_GREY = QColor(0x8A, 0x8A, 0x8A)  # mid grey: visible on light and dark window colours
_BLUE = QColor(0x3A, 0x7B, 0xD5)
_RED = QColor(0xD9, 0x3A, 0x2B)
_ORANGE = QColor(0xE0, 0x7B, 0x00)

DOT_COLOURS: dict[AuthState, QColor] = {
    AuthState.VALID: _GREEN,
    AuthState.CHECKING: _GREY,
    AuthState.NO_KEY: _GREY,
    AuthState.OFFLINE: _BLUE,
    AuthState.REJECTED: _RED,
    AuthState.NO_CREDIT: _RED,
    AuthState.RATE_LIMITED: _ORANGE,
    AuthState.UNREACHABLE: _ORANGE,
    # The key may be fine; the store is not: a problem to fix, but not a refusal.
    AuthState.KEYRING_ERROR: _ORANGE,
}


class AuthIndicator(QWidget):
    """Shows one :class:`AuthStatus`; the owner calls :meth:`set_status` when it changes."""

    def __init__(self, status: AuthStatus | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("authStatus")
        # Names the group only: the label inside still reads as its own text.
        self.setAccessibleName("API key status")
        self._label = QLabel(self)
        self._label.setObjectName("authStatusText")
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # error text is never markup
        layout = QHBoxLayout(self)
        layout.setContentsMargins(DOT_DIAMETER + _GAP, 0, 0, 0)
        layout.addWidget(self._label)
        self._status = checking() if status is None else status
        self._show(self._status)

    @property
    def status(self) -> AuthStatus:
        return self._status

    @property
    def label(self) -> QLabel:
        """The text part, for layouts that align it and for tests."""
        return self._label

    def set_status(self, status: AuthStatus) -> None:
        if status == self._status:
            return
        self._status = status
        self._show(status)
        if self.isVisible():
            announcement = QAccessibleAnnouncementEvent(self, status.spoken)
            QAccessible.updateAccessibility(announcement)

    def dot_colour(self) -> QColor:
        return DOT_COLOURS[self._status.state]

    def _show(self, status: AuthStatus) -> None:
        self._label.setText(status.text)
        self._label.setAccessibleDescription(status.tooltip)
        self.setToolTip(status.tooltip)  # the label has none, so hovering it shows this one
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
            if self._status.state is AuthState.CHECKING:
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
