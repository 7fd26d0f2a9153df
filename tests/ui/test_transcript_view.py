"""TranscriptView: incremental rendering of model changes, formats, timestamps, following the
end, selection and clipboard, and agreement with TranscriptModel.plain_text()."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.messages import Turn, Word
from app.core.speakers import OTHERS, YOU, Stream, TwoVoices
from app.core.transcript import TranscriptChange, TranscriptModel, paragraph_text
from app.ui.transcript_view import TranscriptView, timestamp


def msg(order: int, text: str, *, end: bool = False, formatted: bool = False,
        start: int = 0) -> Turn:
    """A Turn message; while in progress its words are non-final, as the service sends them."""
    words = tuple(
        Word(token, start + 300 * i, start + 300 * i + 250, 0.9, end)
        for i, token in enumerate(text.split())
    )
    return Turn(order, formatted, end, text if end else "", 1.0 if end else 0.0, words)


class Feed:
    """A real model and the view, fed the way the controller feeds them."""

    def __init__(self, view: TranscriptView) -> None:
        self.model, self.view = TranscriptModel(), view

    def __call__(self, turn: Turn) -> TranscriptChange | None:
        change = self.model.apply(turn)
        if change is not None:
            self.view.apply(change)
        return change


@pytest.fixture
def view(qtbot: QtBot) -> TranscriptView:
    widget = TranscriptView()
    qtbot.addWidget(widget)
    widget.resize(400, 200)
    return widget


@pytest.fixture
def feed(view: TranscriptView) -> Feed:
    return Feed(view)


def block_texts(view: TranscriptView) -> list[str]:
    doc = view.document()
    return [doc.findBlockByNumber(i).text() for i in range(doc.blockCount())]


def format_at(view: TranscriptView, block_number: int) -> QTextCharFormat:
    block = view.document().findBlockByNumber(block_number)
    cursor = QTextCursor(block)
    cursor.setPosition(block.position() + 1)  # the format of the first character
    return cursor.charFormat()


# --- set-up ---------------------------------------------------------------------------------


def test_identity_read_only_but_selectable(view: TranscriptView) -> None:
    assert view.objectName() == "transcriptView"
    assert view.accessibleName() == "Transcript"
    assert view.isReadOnly()
    flags = view.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    assert not flags & Qt.TextInteractionFlag.TextEditable
    assert not view.isUndoRedoEnabled()


def test_constructor_shows_the_model_it_is_given(qtbot: QtBot) -> None:
    model = TranscriptModel()
    model.apply(msg(0, "first turn", end=True))
    model.apply(msg(1, "still talking"))
    widget = TranscriptView(model)
    qtbot.addWidget(widget)
    assert block_texts(widget) == ["first turn", "", "still talking"]
    assert widget.plain_text() == "first turn"


# --- partials and finals --------------------------------------------------------------------


def test_partial_is_the_trailing_block_in_a_distinct_format(view: TranscriptView,
                                                            feed: Feed) -> None:
    feed(msg(0, "done here", end=True))
    feed(msg(1, "hello"))
    assert block_texts(view) == ["done here", "", "hello"]
    live, final = format_at(view, 2), format_at(view, 0)
    assert live.fontItalic() and not final.fontItalic()
    placeholder = view.palette().color(QPalette.ColorRole.PlaceholderText)
    assert live.foreground().color() == placeholder
    assert final.foreground().color() != placeholder


def test_partial_is_replaced_in_place(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "hello"))
    count = view.document().blockCount()
    feed(msg(0, "hello there"))
    feed(msg(0, "hello there friend"))
    assert view.document().blockCount() == count == 1
    assert block_texts(view) == ["hello there friend"]


def test_final_settles_into_a_paragraph_and_the_next_partial_goes_below(
    view: TranscriptView, feed: Feed
) -> None:
    feed(msg(0, "hello there"))
    feed(msg(0, "hello there", end=True))
    assert block_texts(view) == ["hello there", "", ""]
    assert not format_at(view, 0).fontItalic()
    feed(msg(1, "and"))
    assert block_texts(view) == ["hello there", "", "and"]
    assert format_at(view, 2).fontItalic()
    feed(msg(1, "and more"))
    assert view.document().blockCount() == 3


def test_revised_replaces_the_paragraph_in_place(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "hello there", end=True))
    feed(msg(1, "second turn", end=True))
    feed(msg(2, "typing"))
    change = feed(msg(0, "Hello there.", end=True, formatted=True))
    assert change is not None and change.kind == "revised"
    assert block_texts(view) == ["Hello there.", "", "second turn", "", "typing"]


def test_both_steps_of_a_two_step_change_are_shown(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "cut short"))
    change = feed(msg(1, "new turn"))
    assert change is not None and change.preceded_by is not None
    # The turn in progress was cut short by the next one: marked as interrupted.
    assert block_texts(view) == ["cut short…", "", "new turn"]
    assert not format_at(view, 0).fontItalic() and format_at(view, 2).fontItalic()


def test_out_of_order_final_is_inserted_at_its_index(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "zero", end=True))
    feed(msg(2, "two", end=True))
    feed(msg(3, "three"))
    change = feed(msg(1, "one", end=True))
    assert change is not None and change.index == 1
    assert block_texts(view) == ["zero", "", "one", "", "two", "", "three"]
    assert view.plain_text() == "zero\n\none\n\ntwo"


def test_turn_without_text_takes_no_visible_line(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "before", end=True))
    feed(msg(1, "", end=True))
    feed(msg(2, "after", end=True))
    doc = view.document()
    assert [doc.findBlockByNumber(i).isVisible() for i in range(doc.blockCount())] == [
        True, True, False, False, True, True, True,
    ]
    assert view.plain_text() == "before\n\nafter"


def test_what_cannot_be_placed_is_refused(view: TranscriptView) -> None:
    model = TranscriptModel()
    model.apply(msg(0, "zero", end=True))
    change = model.apply(msg(1, "one", end=True))
    model.apply(msg(2, "two"))
    assert change is not None and model.partial is not None
    with pytest.raises(ValueError, match="missed a change"):
        view.apply(change)  # the view never saw turn 0
    with pytest.raises(ValueError, match="last turn"):
        view.load([model.partial, model.partial])


def test_frame_markers_cannot_split_a_turn(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "odd \ufdd0 text", end=True))
    assert view.document().blockCount() == 3


# --- whole-document operations --------------------------------------------------------------


def test_load_equals_incremental_and_clear_all_empties(view: TranscriptView, feed: Feed,
                                                       qtbot: QtBot) -> None:
    for order in range(4):
        feed(msg(order, f"turn number {order}", end=True, start=order * 1000))
    feed(msg(4, "live words"))
    other = TranscriptView()
    qtbot.addWidget(other)
    other.load(feed.model.turns())
    assert block_texts(other) == block_texts(view)
    view.clear_all()
    assert view.document().blockCount() == 1 and view.toPlainText() == ""
    assert view.plain_text() == ""
    feed.model.clear()
    feed(msg(5, "fresh start"))
    assert block_texts(view) == ["fresh start"]


def test_timestamps_toggle(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "first", end=True, start=5_000))
    feed(msg(1, "second", end=True, start=3_725_000))
    feed(msg(2, "third", start=3_726_000))
    view.set_show_timestamps(True)
    assert view.show_timestamps
    assert block_texts(view) == ["[00:05] first", "", "[1:02:05] second", "",
                                 "[1:02:06] third"]
    assert format_at(view, 4).fontItalic()
    feed(msg(2, "third one", start=3_726_000))
    feed(msg(3, "fourth", end=True, start=3_730_000))
    assert block_texts(view)[-3:] == ["[1:02:10] fourth", "", ""]
    assert view.plain_text() == "first\n\nsecond\n\nthird one\n\nfourth"
    view.set_show_timestamps(False)
    assert block_texts(view) == ["first", "", "second", "", "third one…", "", "fourth", "", ""]


def test_timestamp_format() -> None:
    assert timestamp(0) == "[00:00]"
    assert timestamp(65_999) == "[01:05]"
    assert timestamp(3_599_999) == "[59:59]"
    assert timestamp(36_000_000) == "[10:00:00]"


def test_partial_colour_follows_a_palette_change(view: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "settled", end=True))
    feed(msg(1, "live"))
    palette = QPalette(view.palette())
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(200, 30, 30))
    view.setPalette(palette)
    assert format_at(view, 2).foreground().color() == QColor(200, 30, 30)
    assert block_texts(view) == ["settled", "", "live"]


# --- the user's view: scrolling, selection, clipboard ---------------------------------------


@pytest.fixture
def shown(view: TranscriptView, qtbot: QtBot) -> Iterator[TranscriptView]:
    view.show()
    qtbot.waitExposed(view)
    yield view


def settle(view: TranscriptView) -> None:
    """Paint now, as the event loop would: wrapped lines are only counted while laying out."""
    view.viewport().repaint()
    QApplication.processEvents()


def following(view: TranscriptView) -> bool:
    return view.following  # a call, so that mypy does not narrow it across scroll moves


def test_follows_the_end_stops_when_scrolled_up_and_resumes(shown: TranscriptView,
                                                           feed: Feed) -> None:
    bar = shown.verticalScrollBar()
    for order in range(40):
        feed(msg(order, f"turn {order} " + "word " * 20, end=True))
        feed(msg(order + 1, "partial words " * 8))
        settle(shown)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    assert following(shown)
    bar.setValue(3)
    assert not following(shown)
    for order in range(41, 60):
        feed(msg(order, "more " * 30, end=True))
        settle(shown)
    assert bar.value() == 3 and bar.value() < bar.maximum()
    bar.setValue(bar.maximum())
    assert following(shown)
    for order in range(60, 70):
        feed(msg(order, "again " * 30, end=True))
        settle(shown)
    assert bar.value() == bar.maximum()


def test_a_selection_survives_partial_updates(shown: TranscriptView, feed: Feed) -> None:
    feed(msg(0, "keep this selected", end=True))
    feed(msg(1, "live"))
    cursor = QTextCursor(shown.document())
    cursor.setPosition(5)
    cursor.setPosition(9, QTextCursor.MoveMode.KeepAnchor)
    shown.setTextCursor(cursor)
    for text in ("live words", "live words keep", "live words keep coming"):
        feed(msg(1, text))
    feed(msg(1, "live words keep coming.", end=True))
    feed(msg(2, "next"))
    after = shown.textCursor()
    assert (after.anchor(), after.position(), after.selectedText()) == (5, 9, "this")


def test_keyboard_select_all_and_copy(shown: TranscriptView, feed: Feed, qtbot: QtBot) -> None:
    feed(msg(0, "copy me", end=True))
    feed(msg(1, "and me"))
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    QTest.keyClick(shown, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(shown, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: clipboard.text() != "")
    assert clipboard.text() == "copy me\n\nand me"


# --- agreement with the model, for any sequence of messages ---------------------------------

_WORDS = st.sampled_from(["hi", "there", "Ünïcode", "a\tb", "x\ny", "q\u2029r", "  ", "."])
_STEP = st.one_of(
    st.tuples(
        st.sampled_from(["same", "next", "skip", "older"]),
        st.lists(_WORDS, max_size=4).map(" ".join),
        st.booleans(),  # end of turn
        st.booleans(),  # formatted
    ),
    st.sampled_from(["settle", "session", "clear"]),
)


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(_STEP, max_size=40), timestamps=st.booleans())
def test_view_matches_the_model_after_any_messages(
    qapp: QApplication, steps: list[tuple[str, str, bool, bool] | str], timestamps: bool
) -> None:
    view = TranscriptView()
    view.set_show_timestamps(timestamps)
    model = TranscriptModel()
    order = 0
    for step in steps:
        change: TranscriptChange | None
        if step == "settle":
            change = model.settle_partial()
        elif step == "session":
            change = model.begin_session(offset_ms=1000)
        elif step == "clear":
            model.clear()
            view.clear_all()
            change = None
        else:
            assert not isinstance(step, str)
            move, text, end, formatted = step
            order = {"same": order, "next": order + 1, "skip": order + 3,
                     "older": max(order - 2, 0)}[move]
            change = model.apply(msg(order, text, end=end, formatted=formatted, start=order))
        if change is not None:
            view.apply(change)
        assert view.plain_text() == model.plain_text(include_partial=False)
    assert view.document().blockCount() == 2 * len(model.finals) + 1
    expected_live = ""
    if model.partial is not None:
        expected_live = paragraph_text(model.partial.text)
        if timestamps and model.partial.start_ms is not None:
            expected_live = f"{timestamp(model.partial.start_ms)} {expected_live}"
    assert view.document().lastBlock().text() == expected_live
    fresh = TranscriptView()
    fresh.set_show_timestamps(timestamps)
    fresh.load(model.turns())
    assert fresh.toPlainText() == view.toPlainText()
    view.deleteLater()
    fresh.deleteLater()


def test_an_interrupted_sentence_is_marked_and_the_mark_is_not_copied(
    view: TranscriptView, feed: Feed,
) -> None:
    feed(msg(0, "the small bit", end=False))
    change = feed.model.settle_partial()  # the session ended before the sentence did
    assert change is not None
    view.apply(change)
    feed(msg(1, "a finished one", end=True))
    assert block_texts(view)[:3] == ["the small bit…", "", "a finished one"]
    assert view.plain_text() == "the small bit\n\na finished one"
    view.set_show_timestamps(True)  # re-rendered from the document: the mark survives
    assert block_texts(view)[0] == "[00:00] the small bit…"
    assert view.plain_text() == feed.model.plain_text(include_partial=False)
    # A late final for the same turn replaces it, and the mark goes.
    view.apply(feed.model.apply(msg(0, "the small bit of text", end=True)) or change)
    assert block_texts(view)[0] == "[00:00] the small bit of text"


def test_two_voices_show_their_speakers_at_the_start_of_each_paragraph(
    view: TranscriptView,
) -> None:
    model = TranscriptModel()
    voices, own = TwoVoices(model), {YOU: TranscriptModel(), OTHERS: TranscriptModel()}

    def say(stream: Stream, turn: Turn) -> None:
        change = own[stream].apply(turn)
        assert change is not None
        for merged in voices.apply(stream, change):
            view.apply(merged)

    say(OTHERS, msg(0, "good morning", end=True, start=2_000))
    say(YOU, msg(0, "hello", end=True, start=0))  # earlier audio: placed before
    say(OTHERS, msg(1, "how are", start=5_000))
    assert block_texts(view) == ["You: hello", "", "Others: good morning", "", "Others: how are"]
    view.set_show_timestamps(True)
    assert block_texts(view)[:3] == ["[00:00] You: hello", "", "[00:02] Others: good morning"]
    # What a screen reader and the clipboard get says who spoke, as the model's text does.
    assert view.plain_text() == model.plain_text(include_partial=False)
    assert view.plain_text() == "You: hello\n\nOthers: good morning"
