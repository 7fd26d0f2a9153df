"""The journal format: what is written reads back equal, revisions and resets fold in, a torn
tail (any cut point) loses at most the record being written, and each write failure gets the
sentence for its cause."""

from __future__ import annotations

import errno
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from app.core.journal import (
    autosave_failure,
    autosave_incomplete,
    end_line,
    first_words,
    header_line,
    journal_path_for,
    parse_journal,
    reset_line,
    turn_line,
    txt_path_for,
)
from app.core.messages import Turn, Word
from app.core.speakers import OTHERS, YOU, TwoVoices
from app.core.transcript import TranscriptModel, TranscriptTurn

STARTED = datetime(2026, 12, 3, 20, 41, 7)


def turn(order: int, text: str, *, segment: int = 0, formatted: bool = False,
         interrupted: bool = False) -> TranscriptTurn:
    words = tuple(Word(w, 100 * i, 100 * i + 80, 0.9, True, None)
                  for i, w in enumerate(text.split()))
    return TranscriptTurn(order=order, text=text, words=words, final=True, formatted=formatted,
                          start_ms=words[0].start if words else None,
                          end_ms=words[-1].end if words else None,
                          interrupted=interrupted, segment=segment)


def test_paths_sit_beside_each_other() -> None:
    txt = Path("/x/2026-12-03_20-41-07.txt")
    assert journal_path_for(txt) == Path("/x/2026-12-03_20-41-07.journal.jsonl")
    assert txt_path_for(journal_path_for(txt)) == txt


def test_a_clean_journal_reads_back_equal() -> None:
    turns = [turn(0, "Grüße aus Köln"), turn(1, "second one"), turn(0, "new segment", segment=1)]
    text = (header_line(STARTED, "cloud", "0.1.0") + "".join(turn_line(t) for t in turns)
            + end_line("closed", STARTED))
    journal = parse_journal(text)
    assert journal.header is not None
    assert (journal.header.started, journal.header.engine, journal.header.app_version) == (
        STARTED, "cloud", "0.1.0")
    assert list(journal.turns) == turns
    assert journal.end == "closed" and journal.ended_cleanly
    assert journal.damaged_lines == 0
    assert "Köln" in text  # readable, not \\u escapes


def test_the_latest_record_of_a_turn_wins_and_order_is_by_key() -> None:
    unformatted, formatted = turn(0, "hello there"), turn(0, "Hello there.", formatted=True)
    late = turn(1, "placed later", interrupted=True)
    lines = [turn_line(t) for t in (unformatted, turn(2, "third"), late, formatted)]
    journal = parse_journal(header_line(STARTED, None, "0.1.0") + "".join(lines))
    assert [t.text for t in journal.turns] == ["Hello there.", "placed later", "third"]
    assert not journal.ended_cleanly


def test_a_reset_forgets_the_turns_before_it() -> None:
    text = turn_line(turn(0, "cleared words")) + reset_line() + turn_line(turn(1, "kept"))
    assert [t.text for t in parse_journal(text).turns] == ["kept"]


def test_a_tail_torn_anywhere_loses_at_most_the_record_being_written() -> None:
    turns = [turn(n, f"turn number {n} ünïcode") for n in range(4)]
    records = [header_line(STARTED, "offline", "0.1.0"), *map(turn_line, turns)]
    whole = "".join(records).encode()
    boundaries = [len("".join(records[:n]).encode()) for n in range(len(records) + 1)]
    for cut in range(len(whole) + 1):
        text = whole[:cut].decode("utf-8", errors="replace")
        journal = parse_journal(text)
        complete = sum(1 for b in boundaries[2:] if b <= cut)  # turn records wholly written
        # The record cut before its newline may still parse when only "\n" is missing.
        assert list(journal.turns) in (turns[:complete], turns[:complete + 1]), cut
        assert journal.damaged_lines <= 1
        assert not journal.ended_cleanly


def test_zeros_after_a_power_cut_and_garbage_lines_are_skipped() -> None:
    text = (header_line(STARTED, None, "0.1.0") + turn_line(turn(0, "kept")) + "{not json\n"
            + '{"type":"turn","turn":{"order":"x"}}\n' + "[1, 2]\n" + "\x00" * 300)
    journal = parse_journal(text)
    assert [t.text for t in journal.turns] == ["kept"]
    assert journal.damaged_lines == 3  # the zeros are padding, not a record


def test_a_missing_header_and_unknown_records_still_give_the_turns() -> None:
    text = '{"type":"future-thing","x":1}\n' + turn_line(turn(0, "words"))
    journal = parse_journal(text)
    assert journal.header is None
    assert [t.text for t in journal.turns] == ["words"]
    assert journal.damaged_lines == 0


def test_a_nan_confidence_survives_the_journal() -> None:
    odd = replace(turn(0, "odd"), words=(Word("odd", 0, 10, math.nan, True, None),))
    (back,) = parse_journal(turn_line(odd)).turns
    assert math.isnan(back.words[0].confidence)


def test_the_last_end_record_says_how_the_recording_ended() -> None:
    text = turn_line(turn(0, "a")) + end_line("recovered", STARTED)
    assert parse_journal(text).end == "recovered"


def test_first_words_are_cut_with_an_ellipsis() -> None:
    turns = [turn(0, "one two three"), turn(1, "four\nfive six")]
    assert first_words(turns, limit=4) == "one two three four …"
    assert first_words(turns, limit=6) == "one two three four five six"
    assert first_words([], limit=3) == ""


def test_each_write_failure_gets_its_own_sentence() -> None:
    full = autosave_failure("a.txt", errno.ENOSPC, "No space left on device")
    assert "the disk is full" in full.message and "Free some disk space" in full.remedy
    denied = autosave_failure("a.txt", errno.EACCES, "Permission denied")
    assert "permission denied" in denied.message
    assert "disk space" not in str(denied) and "writable" in denied.remedy
    assert "read-only" in autosave_failure("a.txt", errno.EROFS, "x").message
    assert "input/output" in autosave_failure("a.txt", errno.EIO, "x").message
    other = autosave_failure("a.txt", errno.ENAMETOOLONG, "File name too long")
    assert "File name too long" in other.message
    for error in (full, denied, other):
        assert "Save…" in error.remedy and "a.txt" in error.message
    assert "may be incomplete" in autosave_incomplete("a.txt", "x").message


def test_two_voices_keep_their_speakers_and_time_order_through_recovery() -> None:
    merged, lines = TranscriptModel(), []
    voices = TwoVoices(merged)
    own = {YOU: TranscriptModel(), OTHERS: TranscriptModel()}
    said = [(OTHERS, "the second thing said", 2000), (YOU, "the first thing said", 500)]
    for stream, text, start in said:
        words = tuple(Word(w, start + 200 * i, start + 200 * i + 150, 0.9, True)
                      for i, w in enumerate(text.split()))
        change = own[stream].apply(Turn(0, True, True, text, 0.9, words))
        assert change is not None
        for step in voices.apply(stream, change):
            lines.append(turn_line(step.turn))
    journal = parse_journal(header_line(STARTED, "cloud", "0.1.0") + "".join(lines))
    recovered = TranscriptModel()
    recovered.restore(journal.turns)
    assert [(t.speaker, t.text) for t in recovered.finals] == [
        ("You", "the first thing said"), ("Others", "the second thing said")]
