"""The transcript pane says which language a paragraph was heard in when it is not English (or
is English right after another language), as text a screen reader reads with the paragraph."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from pytestqt.qtbot import QtBot

from app.core.messages import Turn, Word
from app.core.transcript import TranscriptModel
from app.ui.transcript_view import TranscriptView


def final(order: int, text: str, language: str | None, start: int = 0) -> Turn:
    words = tuple(Word(token, start + 300 * i, start + 300 * i + 250, 0.9, True)
                  for i, token in enumerate(text.split()))
    return Turn(order, True, True, text, 1.0, words, utterance=text, language_code=language,
                language_confidence=None if language is None else 0.9)


@pytest.fixture
def view(qtbot: QtBot) -> TranscriptView:
    widget = TranscriptView()
    qtbot.addWidget(widget)
    return widget


def paragraphs(view: TranscriptView) -> list[str]:
    doc = view.document()
    return [doc.findBlockByNumber(i).text() for i in range(0, doc.blockCount() - 1, 2)]


def feed(view: TranscriptView, model: TranscriptModel, *turns: Turn) -> None:
    for turn in turns:
        change = model.apply(turn)
        assert change is not None
        view.apply(change)


CONVERSATION = (final(0, "Hello there.", "en"), final(1, "Hola a todos.", "es", 2000),
                final(2, "Bonjour.", "fr", 4000), final(3, "Back to English.", "en", 6000),
                final(4, "Still English.", "en", 8000))
SHOWN = ["Hello there.", "[es] Hola a todos.", "[fr] Bonjour.", "[en] Back to English.",
         "Still English."]


def test_tags_show_other_languages_and_the_return_to_english(view: TranscriptView) -> None:
    model = TranscriptModel()
    feed(view, model, *CONVERSATION)
    assert paragraphs(view) == SHOWN
    # Copying and saving give the words only, as the model does.
    assert view.plain_text() == model.plain_text()
    fresh = TranscriptView()
    fresh.load(model.turns())  # a full render (a reset, a recovered recording) agrees
    assert paragraphs(fresh) == SHOWN


def test_no_tags_when_the_language_is_unknown(view: TranscriptView) -> None:
    model = TranscriptModel()
    feed(view, model, final(0, "Hello.", None), final(1, "More words.", None))
    assert paragraphs(view) == ["Hello.", "More words."]


def test_tags_follow_the_timestamps(view: TranscriptView) -> None:
    model = TranscriptModel()
    feed(view, model, *CONVERSATION[:2])
    view.set_show_timestamps(True)
    assert paragraphs(view) == ["[00:00] Hello there.", "[00:02] [es] Hola a todos."]
    view.set_show_timestamps(False)
    assert paragraphs(view) == SHOWN[:2]
    assert view.plain_text() == model.plain_text()


def test_a_late_paragraph_retags_the_one_after_it(view: TranscriptView) -> None:
    model = TranscriptModel()
    feed(view, model, final(0, "Hello.", "en"), final(2, "Goodbye.", "en", 4000))
    assert paragraphs(view) == ["Hello.", "Goodbye."]
    feed(view, model, final(1, "Hola.", "es", 2000))  # arrived out of order
    assert paragraphs(view) == ["Hello.", "[es] Hola.", "[en] Goodbye."]
    assert view.plain_text() == model.plain_text()


def test_the_tag_is_part_of_the_accessible_text(view: TranscriptView) -> None:
    model = TranscriptModel()
    feed(view, model, *CONVERSATION[:2])
    accessible = QAccessible.queryAccessibleInterface(view)
    assert accessible is not None
    text = accessible.textInterface()
    assert text is not None
    assert "[es] Hola a todos." in text.text(0, text.characterCount())
