"""AuthIndicator: text, tooltip and accessible text for every state, the painted dot, and the
announcement of a change."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.core import auth
from app.core.auth import AuthState, AuthStatus
from app.core.errors import (
    AccountError,
    AuthError,
    ConnectionFailedError,
    RateLimitError,
    SecretStoreError,
)
from app.core.ports import KeyCheck, KeyStatus
from app.ui.auth_indicator import DOT_COLOURS, DOT_DIAMETER, AuthIndicator

STATUSES: dict[AuthState, AuthStatus] = {
    AuthState.NO_KEY: auth.no_key(session_only=True),
    AuthState.CHECKING: auth.checking(),
    AuthState.VALID: auth.from_check(KeyCheck(KeyStatus.VALID)),
    AuthState.REJECTED: auth.from_check(KeyCheck(
        KeyStatus.REJECTED, AuthError("AssemblyAI rejected the API key (close 1008).")
    )),
    AuthState.NO_CREDIT: auth.from_check(KeyCheck(
        KeyStatus.NO_CREDIT, AccountError("The account has no credit left.",
                                          remedy="Add credit in the AssemblyAI dashboard.")
    )),
    AuthState.RATE_LIMITED: auth.from_check(KeyCheck(
        KeyStatus.RATE_LIMITED, RateLimitError("Too many sessions at once.")
    )),
    AuthState.UNREACHABLE: auth.from_check(KeyCheck(
        KeyStatus.UNREACHABLE, ConnectionFailedError("streaming.assemblyai.com did not answer.")
    )),
    AuthState.OFFLINE: auth.offline(),
    AuthState.KEYRING_ERROR: auth.from_error(SecretStoreError(
        "The system keyring is locked.", remedy="Unlock it and try again."
    )) or auth.no_key(),
}


@pytest.fixture
def indicator(qtbot: QtBot) -> AuthIndicator:
    widget = AuthIndicator()
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    return widget


def dot_pixel(indicator: AuthIndicator) -> QColor:
    image = indicator.grab().toImage()
    return image.pixelColor(DOT_DIAMETER // 2, image.height() // 2)


def test_the_table_covers_every_state() -> None:
    assert set(STATUSES) == set(AuthState) == set(DOT_COLOURS)
    assert all(status.state is state for state, status in STATUSES.items())


def test_identity_and_initial_state(indicator: AuthIndicator) -> None:
    assert indicator.objectName() == "authStatus"
    assert indicator.status == auth.checking()
    assert indicator.label.text() == "Checking key…"


@pytest.mark.parametrize("state", list(AuthState), ids=lambda state: state.value)
def test_every_state_shows_text_tooltip_and_accessible_cause(indicator: AuthIndicator,
                                                             state: AuthState) -> None:
    status = STATUSES[state]
    indicator.set_status(status)
    assert indicator.status == status
    assert indicator.label.text() == status.text
    assert indicator.toolTip() == status.tooltip
    # The label keeps no accessible name: what a screen reader reads is the shown text...
    assert indicator.label.accessibleName() == ""
    label = QAccessible.queryAccessibleInterface(indicator.label)
    assert label is not None
    assert label.text(QAccessible.Text.Name) == status.text
    # ...and the cause (with the fix) comes as its description.
    assert label.text(QAccessible.Text.Description) == status.tooltip
    assert status.cause in label.text(QAccessible.Text.Description)


def test_the_text_is_never_read_as_markup(indicator: AuthIndicator) -> None:
    indicator.set_status(AuthStatus(AuthState.REJECTED, "<b>Key</b> rejected", "cause"))
    assert indicator.label.text() == "<b>Key</b> rejected"
    # Rendered as markup, the tags would take no room.
    tags_width = indicator.label.fontMetrics().horizontalAdvance("<b>Key</b> rejected")
    assert indicator.label.sizeHint().width() >= tags_width


def test_dot_colour_tells_valid_from_rejected(indicator: AuthIndicator) -> None:
    indicator.set_status(STATUSES[AuthState.VALID])
    valid = dot_pixel(indicator)
    indicator.set_status(STATUSES[AuthState.REJECTED])
    rejected = dot_pixel(indicator)
    assert valid == DOT_COLOURS[AuthState.VALID]
    assert rejected == DOT_COLOURS[AuthState.REJECTED]
    assert valid != rejected


def near(pixel: QColor, colour: QColor) -> bool:
    """Opaque and within antialiasing distance of ``colour``."""
    return pixel.alpha() > 200 and max(abs(pixel.red() - colour.red()),
                                       abs(pixel.green() - colour.green()),
                                       abs(pixel.blue() - colour.blue())) <= 24


def is_ring(image: QImage, colour: QColor) -> bool:
    """The dot's stroke is ``colour`` on both sides of its centre, and its centre is what the
    widget shows where nothing is painted (a pixel in the gap before the text)."""
    # The dot's centre lies on the corner between pixels (4|5, h/2 - 1|h/2); its stroke runs
    # 2.5-4.5 px from there, so pixel columns 1 and 8 are covered by it, columns 4 and 5 not.
    middle = image.height() // 2
    background = image.pixelColor(DOT_DIAMETER + 2, 0)
    stroke = [image.pixelColor(x, middle) for x in (1, DOT_DIAMETER - 2)]
    hole = [image.pixelColor(x, middle) for x in (DOT_DIAMETER // 2 - 1, DOT_DIAMETER // 2)]
    return all(near(p, colour) for p in stroke) and all(p == background for p in hole)


def test_checking_is_a_ring_not_a_disc(indicator: AuthIndicator, qtbot: QtBot) -> None:
    grey = DOT_COLOURS[AuthState.CHECKING]
    assert DOT_COLOURS[AuthState.NO_KEY] == grey  # same colour: only the shape tells them apart
    indicator.set_status(STATUSES[AuthState.CHECKING])
    assert indicator.label.text().endswith("…")
    assert is_ring(indicator.grab().toImage(), grey)
    # The check itself tells a ring from a disc of the same colour, and from nothing painted.
    indicator.set_status(STATUSES[AuthState.NO_KEY])
    disc = indicator.grab().toImage()
    assert near(disc.pixelColor(DOT_DIAMETER // 2, disc.height() // 2), grey)
    assert not is_ring(disc, grey)
    blank = QWidget()
    qtbot.addWidget(blank)
    blank.resize(indicator.size())
    assert not is_ring(blank.grab().toImage(), grey)


def test_a_change_is_announced_once_with_state_and_cause(
    indicator: AuthIndicator, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    indicator.show()
    qtbot.waitExposed(indicator)
    announced: list[str] = []

    def record(event: Any) -> None:
        if isinstance(event, QAccessibleAnnouncementEvent):
            announced.append(event.message())

    monkeypatch.setattr(QAccessible, "updateAccessibility", record)
    rejected = STATUSES[AuthState.REJECTED]
    indicator.set_status(rejected)
    indicator.set_status(rejected)
    assert announced == [rejected.spoken]
    assert rejected.cause.rstrip(".") in announced[0] and rejected.text in announced[0]
