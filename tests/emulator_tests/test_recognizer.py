"""The scripted recogniser on its own (no server)."""

from __future__ import annotations

import pytest

from tests.emulator import DEFAULT_SCRIPT, ScriptedRecognizer, TurnUpdate


def _feed_ms(recognizer: ScriptedRecognizer, total_ms: int, step: int = 50) -> list[TurnUpdate]:
    updates: list[TurnUpdate] = []
    for now in range(step, total_ms + 1, step):
        updates += recognizer.feed(b"", now)
    return updates


def test_default_script_is_short_plain_english() -> None:
    assert 2 <= len(DEFAULT_SCRIPT) <= 3
    for sentence in DEFAULT_SCRIPT:
        assert sentence == sentence.lower() and sentence.replace(" ", "").isalpha()


def test_words_revealed_per_ms_per_word_then_end_of_turn() -> None:
    recognizer = ScriptedRecognizer(["one two three"], ms_per_word=100)
    assert recognizer.feed(b"", 99) == []
    updates = _feed_ms(recognizer, 400)
    assert [(len(u.words), u.end_of_turn) for u in updates] == [
        (1, False),
        (2, False),
        (3, False),
        (3, True),
    ]
    assert [w.is_final for w in updates[1].words] == [True, False]
    assert all(w.is_final for w in updates[-1].words)
    assert [(w.start_ms, w.end_ms) for w in updates[-1].words] == [(0, 75), (100, 175), (200, 275)]
    assert _feed_ms(recognizer, 2000) == []  # script exhausted: silence


def test_large_frame_yields_every_intermediate_update() -> None:
    recognizer = ScriptedRecognizer(["a b", "c"], ms_per_word=100)
    updates = recognizer.feed(b"", 1000)
    texts = [" ".join(w.text for w in u.words) + ("|" if u.end_of_turn else "") for u in updates]
    assert texts == ["a", "a b", "a b|", "c", "c|"]


def test_force_endpoint_splits_turn_and_keeps_remaining_words() -> None:
    recognizer = ScriptedRecognizer(["one two three"], ms_per_word=100)
    recognizer.feed(b"", 250)
    [ended] = recognizer.force_endpoint()
    assert ended.end_of_turn and [w.text for w in ended.words] == ["one", "two"]
    assert recognizer.force_endpoint() == []  # nothing pending
    updates = recognizer.feed(b"", 400)
    assert [w.text for w in updates[-1].words] == ["three"]
    assert updates[-1].words[0].start_ms >= 250
    [flushed] = recognizer.finish()
    assert flushed.end_of_turn and [w.text for w in flushed.words] == ["three"]
    assert recognizer.finish() == []


def test_invalid_ms_per_word() -> None:
    with pytest.raises(ValueError):
        ScriptedRecognizer(ms_per_word=0)
