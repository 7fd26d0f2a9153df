"""LevelMeter: level and peak-hold arithmetic, clamping, what assistive technology reads, and
what is painted."""

from __future__ import annotations

import math

import pytest
from PySide6.QtGui import QAccessible, QColor, QPalette
from PySide6.QtWidgets import QSizePolicy
from pytestqt.qtbot import QtBot

from app.ui.level_meter import (
    FLOOR_DBFS,
    MAX_STEP_S,
    PEAK_FALL_DB_PER_S,
    PEAK_HOLD_S,
    ZONES,
    LevelMeter,
    describe,
)


@pytest.fixture
def meter(qtbot: QtBot) -> LevelMeter:
    widget = LevelMeter()
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    return widget


def test_identity_and_size(meter: LevelMeter) -> None:
    assert meter.objectName() == "levelMeter"
    assert meter.accessibleName() == "Input level"
    assert (meter.sizeHint().width(), meter.sizeHint().height()) == (160, 16)
    minimum = meter.minimumSizeHint()
    assert 0 < minimum.width() <= 80 and 0 < minimum.height() <= 16
    assert meter.sizePolicy().verticalPolicy() is QSizePolicy.Policy.Fixed


def test_starts_silent(meter: LevelMeter) -> None:
    assert (meter.rms_dbfs, meter.peak_dbfs) == (FLOOR_DBFS, FLOOR_DBFS)
    assert meter.accessibleDescription() == "silence"


def test_set_level_updates_the_properties(meter: LevelMeter) -> None:
    meter.set_level(-23.4, -12.0)
    assert (meter.rms_dbfs, meter.peak_dbfs) == (-23.4, -12.0)


@pytest.mark.parametrize(
    ("rms", "peak", "expected"),
    [
        (-90.0, -80.0, (FLOOR_DBFS, FLOOR_DBFS)),
        (3.0, 6.0, (0.0, 0.0)),
        (-math.inf, math.inf, (FLOOR_DBFS, 0.0)),
        (math.nan, math.nan, (FLOOR_DBFS, FLOOR_DBFS)),
        (-10.0, -20.0, (-10.0, -10.0)),  # a peak below the RMS is raised to it
    ],
)
def test_levels_are_clamped(meter: LevelMeter, rms: float, peak: float,
                            expected: tuple[float, float]) -> None:
    meter.set_level(rms, peak)
    assert (meter.rms_dbfs, meter.peak_dbfs) == expected


@pytest.mark.parametrize("cadence_s", [0.1, 0.05], ids=["microphone", "two-voices-mixed"])
def test_peak_holds_then_falls_smoothly_to_the_current_peak(meter: LevelMeter,
                                                            cadence_s: float) -> None:
    """The same hold and fall on the clock whatever the readings' cadence."""
    clock = iter(i * cadence_s for i in range(1000))
    meter.set_level(-30.0, -6.0, next(clock))
    for _ in range(round(PEAK_HOLD_S / cadence_s)):
        meter.set_level(-40.0, -35.0, next(clock))
    assert meter.peak_dbfs == -6.0
    meter.set_level(-40.0, -35.0, next(clock))
    assert meter.peak_dbfs == pytest.approx(-6.0 - PEAK_FALL_DB_PER_S * cadence_s)
    seen = [meter.peak_dbfs]
    for _ in range(round(2.0 / cadence_s)):
        meter.set_level(-40.0, -35.0, next(clock))
        seen.append(meter.peak_dbfs)
    steps = [a - b for a, b in zip(seen, seen[1:], strict=False)]
    assert all(0 <= step <= PEAK_FALL_DB_PER_S * cadence_s + 1e-9 for step in steps)
    # 29 dB to fall at 30 dB/s: it reaches the current peak after about 1 s, either cadence.
    reached = next(i for i, value in enumerate(seen) if value == -35.0)
    assert reached * cadence_s == pytest.approx(29 / PEAK_FALL_DB_PER_S - cadence_s, abs=0.06)
    meter.set_level(-20.0, -3.0, next(clock))  # a new, higher peak is taken at once
    assert meter.peak_dbfs == -3.0


def test_a_pause_in_the_readings_freezes_the_tick(meter: LevelMeter) -> None:
    """No readings (recording stopped, or a stall): nothing moves; when they resume, the gap
    counts as MAX_STEP_S at most, so the tick does not drop to the floor at once."""
    meter.set_level(-30.0, -6.0, 100.0)
    meter.set_level(-40.0, -35.0, 160.0)  # a minute later
    assert meter.peak_dbfs == -6.0  # still in the hold: the gap counted as MAX_STEP_S
    assert MAX_STEP_S < PEAK_HOLD_S


def test_reset_returns_to_silence(meter: LevelMeter) -> None:
    meter.set_level(-10.0, -2.0)
    meter.reset()
    assert (meter.rms_dbfs, meter.peak_dbfs) == (FLOOR_DBFS, FLOOR_DBFS)
    assert meter.accessibleDescription() == "silence"
    meter.set_level(-50.0, -45.0)  # the hold was reset too: the new peak shows at once
    assert meter.peak_dbfs == -45.0


def test_description_and_value_follow_the_whole_db(meter: LevelMeter) -> None:
    meter.set_level(-23.2, -20.0)
    assert meter.accessibleDescription() == "-23 dB"
    interface = QAccessible.queryAccessibleInterface(meter)
    assert interface is not None
    assert interface.role() is QAccessible.Role.ProgressBar
    assert interface.text(QAccessible.Text.Name) == "Input level"
    assert interface.text(QAccessible.Text.Value) == "-23"
    assert interface.text(QAccessible.Text.Description) == "-23 dB"
    value = interface.valueInterface()
    assert value is not None
    assert (value.currentValue(), value.minimumValue(), value.maximumValue()) == (-23, -60, 0)


def test_description_changes_only_when_the_shown_number_does(meter: LevelMeter) -> None:
    changes: list[str] = []
    meter.set_level(-23.2, -20.0)
    meter.valueChanged.connect(lambda value: changes.append(meter.accessibleDescription()))
    for rms in (-23.4, -22.6, -23.0, -22.0, -21.7, -21.9):
        meter.set_level(rms, -20.0)
    assert changes == ["-22 dB"]


def test_describe() -> None:
    assert describe(-60) == "silence"
    assert describe(-7) == "-7 dB"
    assert describe(0) == "0 dB"


def _bar_pixel(meter: LevelMeter) -> QColor:
    """A pixel inside the green zone of the bar, left of any peak tick."""
    image = meter.grab().toImage()
    return image.pixelColor(image.width() // 8, image.height() // 2)


def test_loud_level_paints_the_bar_and_silence_does_not(meter: LevelMeter) -> None:
    background = meter.palette().color(QPalette.ColorRole.Base)
    assert _bar_pixel(meter) == background
    meter.set_level(-3.0, -1.0)
    assert _bar_pixel(meter) == ZONES[0][1]
    image = meter.grab().toImage()
    assert image.pixelColor(image.width() - 4, image.height() // 2) in (
        ZONES[-1][1], meter.palette().color(QPalette.ColorRole.WindowText),
    )
    meter.set_level(FLOOR_DBFS, FLOOR_DBFS)
    meter.reset()
    assert _bar_pixel(meter) == background


def test_the_peak_tick_is_painted_where_the_peak_is(meter: LevelMeter) -> None:
    meter.set_level(-60.0, -30.0)
    image = meter.grab().toImage()
    tick = meter.palette().color(QPalette.ColorRole.WindowText)
    row = image.height() // 2
    columns = [x for x in range(image.width()) if image.pixelColor(x, row) == tick]
    assert columns and all(abs(x - image.width() / 2) <= 3 for x in columns)


def test_each_new_level_is_painted_once(meter: LevelMeter, qtbot: QtBot) -> None:
    """QProgressBar.setValue repaints at once, and set_level schedules a paint as well: the
    meter must not be painted twice for one level (it is fed ten times a second while the
    window records, and each paint costs CPU the whole time)."""
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    meter.show()
    qtbot.waitExposed(meter)
    counter = PaintCounter()
    meter.installEventFilter(counter)
    levels = [(-40.0 + 2 * i, -12.0 + (i % 3)) for i in range(20)]  # every whole dB differs
    for rms, peak in levels:
        meter.set_level(rms, peak)
        QCoreApplication.processEvents()
    meter.removeEventFilter(counter)
    assert [meter.value()] == [round(levels[-1][0])]
    assert counter.paints == len(levels)
