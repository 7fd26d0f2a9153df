"""EngineStatusIndicator: text, tooltip and accessible name for every tone, the painted dot,
and the announcement of a change."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.core import auth, policy
from app.core.config import EngineChoice, Region
from app.core.policy import EngineStatus, Link, Tone
from app.core.ports import KeyCheck, KeyStatus
from app.ui.engine_status import DOT_COLOURS, DOT_DIAMETER, EngineStatusIndicator

CLOUD, OFFLINE = EngineChoice.CLOUD, EngineChoice.OFFLINE
STATUSES: dict[Tone, EngineStatus] = {
    Tone.GOOD: policy.engine_status(CLOUD, Region.EU, "tiny.en",
                                    auth.from_check(KeyCheck(KeyStatus.VALID))),
    Tone.LOCAL: policy.engine_status(OFFLINE, Region.US, "tiny.en", auth.offline()),
    Tone.PENDING: policy.engine_status(CLOUD, Region.US, "tiny.en", auth.checking()),
    Tone.WARNING: policy.engine_status(CLOUD, Region.US, "tiny.en",
                                       auth.from_check(KeyCheck(KeyStatus.RATE_LIMITED))),
    Tone.PROBLEM: policy.engine_status(CLOUD, Region.US, "tiny.en",
                                       auth.from_check(KeyCheck(KeyStatus.REJECTED))),
}


@pytest.fixture
def indicator(qtbot: QtBot) -> EngineStatusIndicator:
    widget = EngineStatusIndicator(STATUSES[Tone.PENDING])
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    return widget


def dot_pixel(indicator: EngineStatusIndicator) -> QColor:
    image = indicator.grab().toImage()
    return image.pixelColor(DOT_DIAMETER // 2, image.height() // 2)


def test_the_table_covers_every_tone() -> None:
    assert set(STATUSES) == set(Tone) == set(DOT_COLOURS)
    assert all(status.tone is tone for tone, status in STATUSES.items())


def test_identity_and_initial_state(indicator: EngineStatusIndicator) -> None:
    assert indicator.objectName() == "engineStatus"
    assert indicator.label.objectName() == "engineStatusText"
    assert indicator.label.text() == "AssemblyAI cloud (US) · checking key…"


@pytest.mark.parametrize("tone", list(Tone), ids=lambda tone: tone.value)
def test_every_tone_shows_text_tooltip_and_the_same_sentence_as_accessible_name(
    indicator: EngineStatusIndicator, tone: Tone,
) -> None:
    status = STATUSES[tone]
    indicator.set_status(status)
    assert indicator.status == status
    assert indicator.label.text() == status.text
    assert indicator.toolTip() == status.detail
    assert indicator.accessibleName() == status.text
    # The label keeps no accessible name: what a screen reader reads there is the shown text,
    # with what it means for the audio as its description.
    assert indicator.label.accessibleName() == ""
    label = QAccessible.queryAccessibleInterface(indicator.label)
    assert label is not None
    assert label.text(QAccessible.Text.Name) == status.text
    assert label.text(QAccessible.Text.Description) == status.detail


def test_the_text_is_never_read_as_markup(indicator: EngineStatusIndicator) -> None:
    indicator.set_status(EngineStatus("<b>Key</b> rejected", Tone.PROBLEM, "cause"))
    assert indicator.label.text() == "<b>Key</b> rejected"
    tags_width = indicator.label.fontMetrics().horizontalAdvance("<b>Key</b> rejected")
    assert indicator.label.sizeHint().width() >= tags_width


def test_dot_colour_tells_cloud_from_local_from_problem(indicator: EngineStatusIndicator) -> None:
    seen = []
    for tone in (Tone.GOOD, Tone.LOCAL, Tone.PROBLEM):
        indicator.set_status(STATUSES[tone])
        pixel = dot_pixel(indicator)
        assert pixel == DOT_COLOURS[tone]
        seen.append(pixel.rgba())
    assert len(set(seen)) == 3


def near(pixel: QColor, colour: QColor) -> bool:
    return pixel.alpha() > 200 and max(abs(pixel.red() - colour.red()),
                                       abs(pixel.green() - colour.green()),
                                       abs(pixel.blue() - colour.blue())) <= 24


def is_ring(image: QImage, colour: QColor) -> bool:
    """The dot's stroke is ``colour`` on both sides of its centre, and its centre is what the
    widget shows where nothing is painted."""
    middle = image.height() // 2
    background = image.pixelColor(DOT_DIAMETER + 2, 0)
    stroke = [image.pixelColor(x, middle) for x in (1, DOT_DIAMETER - 2)]
    hole = [image.pixelColor(x, middle) for x in (DOT_DIAMETER // 2 - 1, DOT_DIAMETER // 2)]
    return all(near(p, colour) for p in stroke) and all(p == background for p in hole)


def test_pending_is_a_ring_not_a_disc(indicator: EngineStatusIndicator, qtbot: QtBot) -> None:
    grey = DOT_COLOURS[Tone.PENDING]
    indicator.set_status(policy.engine_status(CLOUD, Region.US, "tiny.en", auth.no_key(),
                                              Link.RECONNECTING))
    assert indicator.label.text().endswith("reconnecting…")
    assert is_ring(indicator.grab().toImage(), grey)
    indicator.set_status(STATUSES[Tone.PROBLEM])
    assert not is_ring(indicator.grab().toImage(), DOT_COLOURS[Tone.PROBLEM])
    blank = QWidget()
    qtbot.addWidget(blank)
    blank.resize(indicator.size())
    assert not is_ring(blank.grab().toImage(), grey)


def test_a_change_is_announced_once(
    indicator: EngineStatusIndicator, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    indicator.show()
    qtbot.waitExposed(indicator)
    announced: list[str] = []

    def record(event: Any) -> None:
        if isinstance(event, QAccessibleAnnouncementEvent):
            announced.append(event.message())

    monkeypatch.setattr(QAccessible, "updateAccessibility", record)
    local = STATUSES[Tone.LOCAL]
    indicator.set_status(local)
    indicator.set_status(local)
    assert announced == ["On this computer, Whisper tiny.en"]
