"""TranscriptModel: turn ordering, the formatted two-message form, stale and interrupted turns,
session segments, and the incremental-change contract a view relies on."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core import transcript as transcript_module
from app.core.messages import Turn, Word
from app.core.transcript import (
    TranscriptChange,
    TranscriptModel,
    TranscriptTurn,
    TurnKey,
    paragraph_text,
)


def words(text: str, start: int = 0, *, final: bool = True) -> tuple[Word, ...]:
    """One word per whitespace-separated token, 100 ms long, every 200 ms from ``start``."""
    return tuple(
        Word(token, start + 200 * i, start + 200 * i + 100, 0.9, final)
        for i, token in enumerate(text.split())
    )


def msg(
    order: int,
    text: str = "",
    *,
    end: bool = False,
    formatted: bool = False,
    start: int = 0,
    tail: str = "",
    speaker: str | None = None,
) -> Turn:
    """A Turn message: ``text`` is the finalised words, ``tail`` the non-final ones."""
    finalised = words(text, start)
    pending = words(tail, start + 200 * len(finalised), final=False)
    return Turn(
        turn_order=order,
        turn_is_formatted=formatted,
        end_of_turn=end,
        transcript=text,
        end_of_turn_confidence=1.0 if end else 0.0,
        words=finalised + pending,
        speaker_label=speaker,
    )


class ReplayView:
    """What a view does with changes: one row operation per step, never a full re-render."""

    def __init__(self) -> None:
        self.rows: list[TranscriptTurn] = []
        self.live: TranscriptTurn | None = None

    def show(self, change: TranscriptChange | None) -> None:
        if change is None:
            return
        for step in change.steps():
            assert step.preceded_by is None
            if step.kind == "partial":
                assert step.index is None and step.partial in (step.turn, None)
            elif step.kind == "final":
                assert step.index is not None
                self.rows.insert(step.index, step.turn)
            else:
                assert step.index is not None
                assert self.rows[step.index].key == step.turn.key
                self.rows[step.index] = step.turn
            self.live = step.partial

    def matches(self, model: TranscriptModel) -> bool:
        return self.rows == list(model.finals) and self.live == model.partial


def texts(model: TranscriptModel) -> list[str]:
    return [t.text for t in model.finals]


# --- partials and finals ---------------------------------------------------------------------


def test_partial_is_replaced_in_place_and_shows_the_non_final_tail() -> None:
    model = TranscriptModel()
    first = model.apply(msg(0, "hi", tail="my"))
    second = model.apply(msg(0, "hi my", tail="name"))
    assert first is not None and first.kind == "partial" and first.turn.text == "hi my"
    assert second is not None and second.kind == "partial" and second.index is None
    assert model.partial == second.turn and model.partial.text == "hi my name"
    assert model.partial.final is False and model.finals == []
    assert model.turns() == [second.turn]


def test_final_settles_the_turn_in_progress() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "hi", tail="my"))
    change = model.apply(msg(0, "hi my", end=True))
    assert change is not None
    assert (change.kind, change.index, change.partial) == ("final", 0, None)
    assert change.turn.final and not change.turn.interrupted
    assert model.partial is None and texts(model) == ["hi my"]


def test_final_without_partial_is_appended() -> None:
    model = TranscriptModel()
    for order in range(3):
        change = model.apply(msg(order, f"turn {order}", end=True))
        assert change is not None and change.kind == "final" and change.index == order
    assert texts(model) == ["turn 0", "turn 1", "turn 2"]


def test_turn_fields_come_from_the_message() -> None:
    model = TranscriptModel()
    change = model.apply(msg(4, "a b c", end=True, formatted=True, start=1000, speaker="B"))
    assert change is not None
    turn = change.turn
    assert (turn.order, turn.segment, turn.key) == (4, 0, (0, 4))
    assert (turn.start_ms, turn.end_ms) == (1000, 1500)
    assert turn.formatted and turn.final and turn.speaker == "B"
    assert turn.words == words("a b c", 1000)
    empty = TranscriptTurn.from_message(msg(5))
    assert (empty.start_ms, empty.end_ms, empty.text) == (None, None, "")


# --- ordering --------------------------------------------------------------------------------


def test_out_of_order_final_is_inserted_at_its_place() -> None:
    model = TranscriptModel()
    view = ReplayView()
    view.show(model.apply(msg(0, "zero", end=True)))
    view.show(model.apply(msg(2, "two", end=True)))
    change = model.apply(msg(1, "one", end=True))
    view.show(change)
    assert change is not None and (change.kind, change.index) == ("final", 1)
    assert texts(model) == ["zero", "one", "two"]
    assert view.matches(model)


def test_out_of_order_partial_of_an_unseen_older_turn_is_kept_as_interrupted() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "zero", end=True))
    model.apply(msg(2, "two", tail="and"))
    change = model.apply(msg(1, "one", tail="more"))
    assert change is not None and (change.kind, change.index) == ("final", 1)
    assert change.turn.interrupted and change.turn.final and change.turn.text == "one more"
    # The newest turn is still the one in progress.
    assert model.partial is not None and model.partial.order == 2
    # Its real final still replaces it.
    revised = model.apply(msg(1, "one more", end=True))
    assert revised is not None and (revised.kind, revised.index) == ("revised", 1)
    assert not model.finals[1].interrupted


# --- the 2025 two-message formatted form ----------------------------------------------------


def test_formatted_final_replaces_the_unformatted_final_once() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "hi my name is sonny", end=True))
    change = model.apply(msg(0, "Hi, my name is Sonny.", end=True, formatted=True))
    assert change is not None and (change.kind, change.index) == ("revised", 0)
    assert change.turn.formatted and texts(model) == ["Hi, my name is Sonny."]
    # Once formatted, the turn is settled for good.
    assert model.apply(msg(0, "Hi my name is Sonny!", end=True, formatted=True)) is None
    assert model.apply(msg(0, "hi my name is sonny", end=True)) is None
    assert texts(model) == ["Hi, my name is Sonny."] and model.stale_messages == 2


def test_formatted_final_of_an_older_turn_is_found_by_bisect() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "zero", end=True))
    model.apply(msg(1, "one", end=True))
    change = model.apply(msg(0, "Zero.", end=True, formatted=True))
    assert change is not None and (change.kind, change.index) == ("revised", 0)
    assert texts(model) == ["Zero.", "one"]


def test_formatted_on_every_message_settles_with_one_final() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "Hi", formatted=True))
    change = model.apply(msg(0, "Hi.", end=True, formatted=True))
    assert change is not None and change.kind == "final" and change.turn.formatted
    assert model.apply(msg(0, "Hi.", end=True, formatted=True)) is None


# --- stale messages --------------------------------------------------------------------------


def test_late_partial_and_duplicate_final_are_ignored_and_counted() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "done", end=True))
    revision = model.revision
    assert model.apply(msg(0, "do", tail="ne")) is None
    assert model.apply(msg(0, "done again", end=True)) is None
    assert model.stale_messages == 2
    assert model.revision == revision and texts(model) == ["done"] and model.partial is None


# --- interrupted turns -----------------------------------------------------------------------


def test_new_turn_while_another_is_in_progress_settles_it_as_interrupted() -> None:
    model = TranscriptModel()
    view = ReplayView()
    view.show(model.apply(msg(0, "first", tail="words")))
    change = model.apply(msg(1, "second"))
    view.show(change)
    assert change is not None and change.kind == "partial"
    settled = change.preceded_by
    assert settled is not None and (settled.kind, settled.index, settled.partial) == (
        "final", 0, None)
    assert settled.turn.interrupted and settled.turn.text == "first words"
    assert [s.kind for s in change.steps()] == ["final", "partial"]
    assert model.finals[0].words == words("first") + words("words", 200, final=False)
    assert view.matches(model)


def test_new_final_while_another_is_in_progress_gives_two_finals() -> None:
    model = TranscriptModel()
    view = ReplayView()
    view.show(model.apply(msg(0, "cut", tail="off")))
    change = model.apply(msg(1, "whole", end=True))
    view.show(change)
    assert change is not None and [(s.kind, s.index) for s in change.steps()] == [
        ("final", 0), ("final", 1)]
    assert [t.interrupted for t in model.finals] == [True, False]
    assert view.matches(model)


def test_interrupted_turn_takes_its_real_final_if_it_still_comes() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "cut", tail="off"))
    model.apply(msg(1, "next"))
    change = model.apply(msg(0, "cut off here", end=True))
    assert change is not None and (change.kind, change.index) == ("revised", 0)
    assert model.finals[0].text == "cut off here" and not model.finals[0].interrupted
    # Now it is an ordinary unformatted final: only the formatted one may follow.
    assert model.apply(msg(0, "cut off", tail="x")) is None
    assert model.apply(msg(0, "Cut off here.", end=True, formatted=True)) is not None


def test_settle_partial_keeps_the_words_in_progress() -> None:
    model = TranscriptModel()
    assert model.settle_partial() is None
    model.apply(msg(0, "almost", tail="there"))
    revision = model.revision
    change = model.settle_partial()
    assert change is not None and (change.kind, change.index, change.partial) == (
        "final", 0, None)
    assert change.turn.interrupted and change.turn.final and change.turn.text == "almost there"
    assert model.partial is None and model.revision == revision + 1
    assert model.settle_partial() is None


# --- session segments and offsets ------------------------------------------------------------


def test_offset_shifts_word_times() -> None:
    model = TranscriptModel()
    change = model.apply(msg(0, "a b", end=True, start=100), offset_ms=1000)
    assert change is not None
    assert (change.turn.start_ms, change.turn.end_ms) == (1100, 1400)
    assert [(w.start, w.end) for w in change.turn.words] == [(1100, 1200), (1300, 1400)]


def test_new_session_restarts_turn_order_after_everything_before() -> None:
    model = TranscriptModel()
    view = ReplayView()
    view.show(model.apply(msg(0, "old zero", end=True)))
    view.show(model.apply(msg(1, "old one", tail="cut")))
    settled = model.begin_session(offset_ms=60_000)
    view.show(settled)
    assert settled is not None and settled.turn.interrupted and settled.index == 1
    assert model.segment == 1
    change = model.apply(msg(0, "new zero", end=True, start=500), offset_ms=10)
    view.show(change)
    assert change is not None and (change.kind, change.index) == ("final", 2)
    assert change.turn.key == (1, 0) and change.turn.start_ms == 60_510
    # The new session's formatted final revises its own turn 0, not the old session's.
    view.show(model.apply(msg(0, "New zero.", end=True, formatted=True)))
    assert [t.key for t in model.finals] == [(0, 0), (0, 1), (1, 0)]
    assert texts(model) == ["old zero", "old one cut", "New zero."]
    assert view.matches(model)


def test_begin_session_reuses_a_segment_without_messages() -> None:
    model = TranscriptModel()
    assert model.begin_session(0) is None and model.segment == 0
    model.apply(msg(0, "x", end=True))
    model.begin_session(100)
    model.begin_session(200)
    assert model.segment == 1
    change = model.apply(msg(0, "y", end=True))
    assert change is not None and change.turn.start_ms == 200


def test_negative_offsets_are_a_programming_error() -> None:
    model = TranscriptModel()
    with pytest.raises(ValueError):
        model.apply(msg(0, "x"), offset_ms=-1)
    with pytest.raises(ValueError):
        model.begin_session(-1)


# --- clear, revision, text -------------------------------------------------------------------


def test_clear_drops_turns_but_keeps_late_messages_stale() -> None:
    model = TranscriptModel()
    finals = model.finals
    model.apply(msg(0, "zero", end=True))
    model.apply(msg(1, "one", tail="more"))
    revision = model.revision
    model.clear()
    assert model.finals is finals and finals == [] and model.partial is None
    assert model.is_empty and model.word_count == 0 and model.revision == revision + 1
    assert model.apply(msg(0, "Zero.", end=True, formatted=True)) is None
    assert model.stale_messages == 1
    # The turn that was in progress comes back with its next message, as a partial.
    change = model.apply(msg(1, "one more", tail="words"))
    assert change is not None and change.kind == "partial" and model.finals == []
    model.apply(msg(1, "one more words", end=True))
    assert texts(model) == ["one more words"]


def test_clear_with_only_a_partial_lets_that_turn_come_back() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "in progress"))
    model.clear()
    change = model.apply(msg(0, "in progress again"))
    assert change is not None and change.kind == "partial"


def test_revision_counts_every_step_and_nothing_else() -> None:
    model = TranscriptModel()
    assert model.revision == 0
    model.apply(msg(0, "a"))
    assert model.revision == 1
    model.apply(msg(1, "b"))  # settles turn 0 and starts turn 1: two steps
    assert model.revision == 3
    model.apply(msg(0, "late"))  # stale
    assert model.revision == 3
    model.settle_partial()
    model.clear()
    assert model.revision == 5


def test_plain_text_has_one_paragraph_per_turn() -> None:
    model = TranscriptModel()
    assert model.plain_text() == ""
    model.apply(msg(0, "Hello there.", end=True, formatted=True))
    model.apply(msg(1, "", end=True))  # a turn without words: no empty paragraph
    model.apply(msg(2, "and", tail="then"))
    assert model.plain_text() == "Hello there.\n\nand then"
    assert model.plain_text(include_partial=False) == "Hello there."
    assert paragraph_text(" one\n\n two \r\nthree ") == "one two three"


def test_word_count_follows_revisions_and_partials() -> None:
    model = TranscriptModel()
    assert model.is_empty
    model.apply(msg(0, "one two", end=True))
    model.apply(msg(0, "One, two, three.", end=True, formatted=True))
    model.apply(msg(1, "four", tail="five six"))
    assert (model.word_count, model.is_empty) == (6, False)
    model.apply(msg(2, "", end=True))
    assert model.word_count == 6


# --- cost ------------------------------------------------------------------------------------


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    original: Callable[..., Any] = getattr(transcript_module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(transcript_module, name, counted)
    return calls


def test_ten_thousand_turns_only_ever_append(monkeypatch: pytest.MonkeyPatch) -> None:
    bisects = count_calls(monkeypatch, "bisect_left")
    model = TranscriptModel()
    finals = model.finals
    settled: list[TranscriptTurn] = []
    for order in range(10_000):
        model.apply(msg(order, "so", tail="far"))
        model.apply(msg(order, "so far", end=True))
        change = model.apply(msg(order, "So far.", end=True, formatted=True))
        assert change is not None and change.index == order == len(finals) - 1
        settled.append(change.turn)
    # Nothing was searched, sorted or rebuilt: the same list, the same turn objects.
    assert bisects == []
    assert model.finals is finals and len(finals) == 10_000
    assert all(a is b for a, b in zip(finals, settled, strict=True))


def test_out_of_order_arrival_costs_one_search(monkeypatch: pytest.MonkeyPatch) -> None:
    bisects = count_calls(monkeypatch, "bisect_left")
    model = TranscriptModel()
    for order in range(0, 100, 2):
        model.apply(msg(order, str(order), end=True))
    model.apply(msg(51, "51", end=True))
    assert len(bisects) == 1
    assert [t.order for t in model.finals][24:28] == [48, 50, 51, 52]


# --- properties ------------------------------------------------------------------------------

_message = st.builds(
    msg,
    order=st.integers(0, 6),
    text=st.sampled_from(["", "a", "a b", "Hello, world."]),
    end=st.booleans(),
    formatted=st.booleans(),
    start=st.integers(0, 10_000),
    tail=st.sampled_from(["", "x", "x y"]),
)
_event = st.one_of(
    _message,
    st.sampled_from(["begin_session", "replay_session", "settle", "clear"]),
)
# 2,000 examples in the default run; PROPERTY_EXAMPLES=20000 for the documented longer run.
_EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "2000"))


@settings(max_examples=_EXAMPLES)
@given(st.lists(_event, max_size=40))
def test_changes_replayed_by_a_view_reproduce_the_model(events: list[Turn | str]) -> None:
    model = TranscriptModel()
    view = ReplayView()
    alive: set[TurnKey] = set()  # every key that got through since the last clear
    settled: dict[TurnKey, str] = {}  # formatted finals: their text never changes again
    for event in events:
        revision = model.revision
        if event == "clear":
            model.clear()
            view = ReplayView()
            alive.clear()
            settled.clear()
            continue
        if event == "settle":
            change = model.settle_partial()
        elif event == "begin_session":
            change = model.begin_session(1000)
        elif event == "replay_session":
            # A reconnect: the new session re-hears the turn in progress, which is dropped.
            if model.partial is not None:
                alive.discard(model.partial.key)
            change = model.begin_session(2000, replay=True)
        else:
            assert isinstance(event, Turn)
            key = (model.segment, event.turn_order)
            change = model.apply(event)
            if change is not None:
                alive.add(key)
        view.show(change)
        steps = change.steps() if change is not None else ()
        assert model.revision == revision + len(steps)
        assert view.matches(model)
        keys = [t.key for t in model.finals]
        assert keys == sorted(set(keys))
        assert all(t.final for t in model.finals)
        if model.partial is not None:
            assert not model.partial.final
            assert not keys or model.partial.key > keys[-1]
        assert model.word_count == sum(len(t.text.split()) for t in model.turns())
        assert model.has_final_text == bool(model.plain_text(include_partial=False))
        for turn in model.finals:
            if turn.key in settled:
                assert turn.text == settled[turn.key], "a settled final changed"
            elif turn.formatted and not turn.interrupted:
                settled[turn.key] = turn.text
    # Nothing is ever lost: every turn that was shown is still there.
    assert {t.key for t in model.turns()} == alive


def test_has_final_text_is_what_copy_and_save_would_write() -> None:
    model = TranscriptModel()

    def has_text() -> bool:  # a call, so mypy does not narrow the property between reads
        return model.has_final_text

    assert not has_text()
    model.apply(msg(0, tail="words in progress"))
    assert not has_text()  # a partial is not copied or saved
    model.apply(msg(0, "   ", end=True))
    assert not has_text() and model.plain_text(include_partial=False) == ""
    model.apply(msg(1, "said at last", end=True))
    assert has_text()
    model.clear()
    assert not has_text()
    model.restore([TranscriptTurn(0, "restored words", (), True, True, 0, 900)])
    assert has_text()


def test_steps_flattens_nested_changes() -> None:
    turn = TranscriptTurn(0, "x", (), True, False, None, None)
    inner = TranscriptChange("final", turn, 0, None)
    outer = TranscriptChange("partial", replace(turn, order=1), None, None, preceded_by=inner)
    assert outer.steps() == (inner, replace(outer, preceded_by=None))


# --- crash recovery ----------------------------------------------------------------------------

def test_restored_turns_come_first_and_the_next_recording_follows_them() -> None:
    earlier = TranscriptModel()
    for segment_start in (0, 1):
        earlier.begin_session(offset_ms=segment_start * 5000)
        earlier.apply(msg(0, "one two", end=True), offset_ms=segment_start * 5000)
        earlier.apply(msg(1, "three", end=True), offset_ms=segment_start * 5000)
    restored = list(earlier.finals)
    assert {t.segment for t in restored} == {0, 1}

    model = TranscriptModel()
    revision = model.revision
    model.restore(list(reversed(restored)))  # any order in: key order out
    assert list(model.finals) == restored
    assert model.word_count == 6 and model.revision > revision
    model.begin_session()
    model.apply(msg(0, "after the crash", end=True))
    assert texts(model)[-1] == "after the crash"
    assert model.finals[-1].segment == 2
    assert len(model.finals) == 5


def test_restore_needs_an_empty_transcript() -> None:
    model = TranscriptModel()
    model.apply(msg(0, "already here", end=True))
    with pytest.raises(ValueError, match="empty"):
        model.restore([])
