"""Decode loops told apart from people repeating themselves."""

from __future__ import annotations

import pytest

from app.core.repetition import TRIM_RULES, Loop, LoopRules, find_loop, stutters, trim_loops


@pytest.mark.parametrize(("text", "loop"), [
    # Speech: a word twice or three times, a short phrase twice.
    ("no, no, I said no.", None),
    ("it was very very cold", None),
    ("No, no, no, not that one.", None),
    ("that that is, is", None),
    ("thank you, thank you so much", None),
    ("I think I think so", None),
    ("bye bye", None),
    ("", None),
    ("- - - - -", None),  # marks are no words
    # Loops: one word four times, a short phrase three times, a clause twice.
    ("the the the the", Loop(0, 1, 4)),
    ("and then if if if if if if", Loop(2, 1, 6)),
    ("The, the. THE the", Loop(0, 1, 4)),  # case and punctuation do not make words differ
    ("thank you thank you thank you", Loop(0, 2, 3)),
    ("so it goes so it goes so it goes on", Loop(0, 3, 3)),
    ("money that nobody in the house could find, nobody in the house could find, not",
     Loop(2, 6, 2)),
    ("only left and turned to say, and she knew it, and she knew it", Loop(6, 4, 2)),
])
def test_loops_are_told_from_repeats_people_say(text: str, loop: Loop | None) -> None:
    assert find_loop(text.split()) == loop


def test_the_shortest_looping_phrase_wins_and_its_end_is_after_the_last_copy() -> None:
    loop = find_loop("a a a a a a".split())
    assert loop == Loop(0, 1, 6) and loop.end == 6
    assert find_loop("x y x y x y x y".split()) == Loop(0, 2, 4)


def test_trimming_rules_leave_what_people_might_say() -> None:
    for said in ("no no no no", "thank you thank you thank you",
                 "press the red button. Press the red button."):
        assert find_loop(said.split(), TRIM_RULES) is None, said
    assert find_loop(("the meaty, " * 8).split(), TRIM_RULES) == Loop(0, 2, 8)


def test_rules_can_be_stricter_or_looser() -> None:
    assert find_loop("no no no".split(), LoopRules(word_repeats=3)) == Loop(0, 1, 3)
    assert find_loop("a b c a b c".split(), LoopRules(long_phrase=3)) == Loop(0, 3, 2)
    assert find_loop("a b c d e a b c d e".split(), LoopRules(max_phrase=4)) is None


@pytest.mark.parametrize(("text", "kept"), [
    ("I said the the the the end", "I said the end"),
    ("nobody in the house could find, nobody in the house could find, not even",
     "nobody in the house could find, not even"),
    ("a a a a then b c b c b c", "a then b c"),
    ("no, no, no.", "no, no, no."),
])
def test_trimming_keeps_one_copy_of_each_loop(text: str, kept: str) -> None:
    words = text.split()
    assert " ".join(trim_loops(words, words)) == kept


def test_trimming_keeps_the_items_that_go_with_the_words() -> None:
    items = [(w, i) for i, w in enumerate("x x x x y".split())]
    assert trim_loops(items, [w for w, _ in items]) == [("x", 0), ("y", 4)]


@pytest.mark.parametrize(("pieces", "stutter"), [
    # The decoder's word pieces, leading spaces as it writes them.
    ([" tickets", " cost", " $", " $", " 14", " for"], True),
    ([" $", " $", " $", " 4"], True),
    ([" 50", "%", "%"], True),
    ([" costs", " $", "18", " and", " $", "9"], False),  # one sign per number
    ([" $", " 18", " or", " €", " 20"], False),  # two signs, each once
    ([" wait", ".", ".", "."], False),  # marks: an ellipsis
    ([" well", "-", "-", "run"], False),
    ([" no", " no", " no"], False),  # words: find_loop's business
    ([], False),
])
def test_a_sign_twice_in_a_row_is_a_stutter(pieces: list[str], stutter: bool) -> None:
    assert stutters(pieces) is stutter
