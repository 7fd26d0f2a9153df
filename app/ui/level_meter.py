"""The microphone level: an RMS bar and a peak tick over -60..0 dBFS.

It is a ``QProgressBar`` that paints itself, because that is what gives a custom meter the
progress-bar role *and* a value interface (current, minimum, maximum) on every accessibility
bridge; a plain ``QWidget`` would need a process-wide accessibility factory for the role alone.
The value is the RMS level in whole dB, so assistive technology hears about a change only when
the number it would read changes. The ``QProgressBar`` value API is an implementation detail:
callers use :meth:`LevelMeter.set_level` and :meth:`LevelMeter.reset`.

The peak hold decays in :meth:`LevelMeter.set_level`, by the time since the previous reading,
not by a timer of its own: a meter that is not fed (recording stopped) freezes rather than
animates, and it looks the same whether readings come every 100 ms (a microphone's hand-offs)
or every 50 ms (two voices mixed). A gap longer than ``MAX_STEP_S`` between readings counts as
that much, so the tick does not jump when readings resume.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QProgressBar, QSizePolicy, QWidget

FLOOR_DBFS = -60.0
CEILING_DBFS = 0.0
PEAK_HOLD_S = 0.5
PEAK_FALL_DB_PER_S = 30.0  # the tick visibly falls, yet a syllable keeps it up
MAX_STEP_S = 0.25

# Saturated mid-tone colours read on light and dark bases alike. (upper bound dBFS, colour)
ZONES: tuple[tuple[float, QColor], ...] = (
    (-18.0, QColor(0x2E, 0x9D, 0x3A)),  # speech normally sits here
    (-6.0, QColor(0xD6, 0xA4, 0x00)),  # loud
    (CEILING_DBFS, QColor(0xD9, 0x3A, 0x2B)),  # about to clip
)


def _clamp(dbfs: float) -> float:
    if math.isnan(dbfs):
        return FLOOR_DBFS  # a silent frame's log can be NaN upstream: show silence
    return min(max(dbfs, FLOOR_DBFS), CEILING_DBFS)


def describe(level_db: int) -> str:
    """The level in words for assistive technology."""
    return "silence" if level_db <= FLOOR_DBFS else f"{level_db} dB"


class LevelMeter(QProgressBar):
    """Horizontal input level meter; feed it with :meth:`set_level`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rms = FLOOR_DBFS
        self._peak = FLOOR_DBFS
        self._hold_s = 0.0
        self._last_at: float | None = None
        self.setObjectName("levelMeter")
        self.setAccessibleName("Input level")
        self.setRange(int(FLOOR_DBFS), int(CEILING_DBFS))
        self.setTextVisible(False)
        self.setValue(int(FLOOR_DBFS))
        self.setAccessibleDescription(describe(int(FLOOR_DBFS)))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    @property
    def rms_dbfs(self) -> float:
        """The RMS level shown, clamped to the meter's range."""
        return self._rms

    @property
    def peak_dbfs(self) -> float:
        """The peak shown: the held maximum, decaying towards the current peak."""
        return self._peak

    def set_level(self, rms_dbfs: float, peak_dbfs: float, now: float | None = None) -> None:
        """A new reading; ``now`` (seconds, monotonic) is when it came, the clock by default."""
        now = time.monotonic() if now is None else now
        step = 0.0 if self._last_at is None else min(max(now - self._last_at, 0.0), MAX_STEP_S)
        self._last_at = now
        rms = _clamp(rms_dbfs)
        peak = max(_clamp(peak_dbfs), rms)  # a peak below the RMS is a caller's rounding
        held = self._peak
        if peak >= held:
            held, self._hold_s = peak, PEAK_HOLD_S
        else:
            falling_s = max(0.0, step - self._hold_s)  # the part of the step past the hold
            self._hold_s = max(0.0, self._hold_s - step)
            held = max(peak, held - PEAK_FALL_DB_PER_S * falling_s)
        if (rms, held) == (self._rms, self._peak):
            return
        self._rms, self._peak = rms, held
        self._show_value()
        self.update()

    def reset(self) -> None:
        self._rms = self._peak = FLOOR_DBFS
        self._hold_s = 0.0
        self._last_at = None
        self._show_value()
        self.update()

    def _show_value(self) -> None:
        level = round(self._rms)
        if level != self.value():  # the throttle: assistive technology hears whole dB only
            # Description first: setValue notifies listeners, who should read the new words.
            self.setAccessibleDescription(describe(level))
            # QProgressBar.setValue paints at once (its own paint code would have noted what it
            # painted; this paintEvent replaces it), on top of the paint every caller schedules
            # with update(): with updates off it only stores the value, and one paint is left.
            self.setUpdatesEnabled(False)
            try:
                self.setValue(level)
            finally:
                self.setUpdatesEnabled(True)

    # --- Qt overrides ----------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(160, 16)

    def minimumSizeHint(self) -> QSize:
        return QSize(48, 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        painter = QPainter(self)
        try:
            frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
            painter.setPen(palette.color(QPalette.ColorRole.Mid))
            painter.setBrush(palette.color(QPalette.ColorRole.Base))
            painter.drawRect(frame)
            inner = QRectF(self.rect()).adjusted(1, 1, -1, -1)
            low = FLOOR_DBFS
            for high, colour in ZONES:
                top = min(high, self._rms)
                if top > low:
                    left, right = self._x(low, inner), self._x(top, inner)
                    painter.fillRect(QRectF(left, inner.top(), right - left, inner.height()),
                                     colour)
                low = high
            if self._peak > FLOOR_DBFS:
                # WindowText contrasts with both the zones and the base in either theme.
                x = min(self._x(self._peak, inner), inner.right() - 2)
                painter.fillRect(QRectF(x, inner.top(), 2, inner.height()),
                                 palette.color(QPalette.ColorRole.WindowText))
        finally:
            painter.end()

    @staticmethod
    def _x(dbfs: float, inner: QRectF) -> float:
        share = (dbfs - FLOOR_DBFS) / (CEILING_DBFS - FLOOR_DBFS)
        return inner.left() + share * inner.width()
