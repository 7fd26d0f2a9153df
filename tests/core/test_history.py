"""History entries from journals: date, duration, engine, first words, search, order."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.core import journal
from app.core.history import RecordingSummary, newest_first, summarize
from app.core.transcript import TranscriptTurn

MODIFIED = datetime(2026, 12, 3, 22, 0)


def turn(order: int, text: str, start: int, end: int, segment: int = 0) -> TranscriptTurn:
    return TranscriptTurn(order, text, (), True, True, start, end, segment=segment)


def journal_text(started: datetime | None, engine: str | None, turns: list[TranscriptTurn],
                 end: bool = True) -> str:
    lines = [journal.header_line(started, engine, "t")] if started is not None else []
    lines += [journal.turn_line(t) for t in turns]
    if end:
        lines.append(journal.end_line("closed", MODIFIED))
    return "".join(lines)


def test_one_entry_spans_every_engine_session_of_a_recording() -> None:
    turns = [turn(0, "Good morning.", 1_000, 2_000), turn(0, "After the reconnect.", 65_000,
                                                              66_500, segment=1)]
    entry = summarize(Path("a.journal.jsonl"),
                      journal.parse_journal(journal_text(datetime(2026, 12, 1, 9, 5), "cloud",
                                                         turns)), MODIFIED)
    assert entry.duration_ms == 65_500
    assert entry.text == "Good morning.\n\nAfter the reconnect."
    assert entry.label == ("01 Dec 2026 09:05 · 01:05 · AssemblyAI cloud — Good morning. After "
                           "the reconnect.")


def test_a_recording_that_went_offline_mid_way_names_both_engines() -> None:
    """Automatic fell back to the offline engine after the cloud's first words."""
    text = journal_text(datetime(2026, 12, 1, 9, 5), "cloud", [turn(0, "Before.", 0, 1_000)])
    text += journal.engine_line("offline") + journal.turn_line(turn(1, "After.", 2_000, 3_000))
    entry = summarize(Path("a"), journal.parse_journal(text), MODIFIED)
    assert entry.engine == "cloud+offline"
    assert entry.label == ("01 Dec 2026 09:05 · 00:03 · AssemblyAI cloud, then on this "
                           "computer — Before. After.")


@pytest.mark.parametrize(("query", "found"), [
    ("", True), ("MORNING", True), ("reconnect morning", True), ("evening", False),
    ("morning evening", False),
])
def test_search_needs_every_word(query: str, found: bool) -> None:
    entry = summarize(Path("a"), journal.parse_journal(journal_text(
        None, None, [turn(0, "Good morning.", 0, 1), turn(1, "The reconnect.", 2, 3)])), MODIFIED)
    assert entry.matches(query) is found


def test_an_entry_without_header_or_end_says_so_and_uses_the_files_time() -> None:
    entry = summarize(Path("a"), journal.parse_journal(journal_text(
        None, None, [turn(0, "Cut", 0, 500)], end=False)), MODIFIED)
    assert entry.started == MODIFIED
    assert entry.label == "03 Dec 2026 22:00 · 00:00 · did not end cleanly — Cut"


def test_newest_first() -> None:
    def at(day: int) -> RecordingSummary:
        return summarize(Path(str(day)), journal.parse_journal(journal_text(
            datetime(2026, 12, day), "offline", [turn(0, "x", 0, 1)])), MODIFIED)
    entries = [at(1), at(3), at(2)]
    assert [e.started.day for e in newest_first(entries)] == [3, 2, 1]
