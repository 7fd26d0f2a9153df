"""Earlier recordings as the History window lists them: one entry per recording journal,
however many engine sessions the recording spanned. Pure: journals in, summaries out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from app.core.clock import short_clock
from app.core.journal import Journal, first_words
from app.core.transcript import TranscriptTurn, paragraph_text

_ENGINES = {"cloud": "AssemblyAI cloud", "offline": "On this computer"}
_LATER_ENGINES = {"offline": "on this computer"}  # mid-sentence after a comma
ENGINE_JOIN = "+"  # "cloud+offline": the engines of one recording, in order


@dataclass(frozen=True)
class RecordingSummary:
    journal: Path
    started: datetime  # the header's time, else the file's modification time
    engine: str | None  # "cloud", "offline", or several in order: "cloud+offline"
    turns: tuple[TranscriptTurn, ...]
    ended_cleanly: bool

    @property
    def duration_ms(self) -> int:
        """From the first word to the last, in audio time."""
        starts = [t.start_ms for t in self.turns if t.start_ms is not None]
        ends = [t.end_ms for t in self.turns if t.end_ms is not None]
        return max(0, max(ends) - min(starts)) if starts and ends else 0

    @property
    def text(self) -> str:
        return "\n\n".join(p for p in (paragraph_text(t.text) for t in self.turns) if p)

    @property
    def label(self) -> str:
        """One line for the list: date, duration, engine, first words."""
        parts = [f"{self.started:%d %b %Y %H:%M}", short_clock(self.duration_ms)]
        if self.engine:  # journals written before the engine was recorded have none
            first, *later = self.engine.split(ENGINE_JOIN)
            parts.append(", then ".join(
                [_ENGINES.get(first, first)]
                + [_LATER_ENGINES.get(e, _ENGINES.get(e, e)) for e in later]))
        if not self.ended_cleanly:
            parts.append("did not end cleanly")
        words = first_words(self.turns, 10) or "(no words)"
        return " · ".join(parts) + f" — {words}"

    def matches(self, query: str) -> bool:
        """Every word of ``query`` appears in the transcript (case-insensitive)."""
        text = self.text.casefold()
        return all(word in text for word in query.casefold().split())


def summarize(path: Path, journal: Journal, modified: datetime) -> RecordingSummary:
    header = journal.header
    started = header.started if header is not None and header.started is not None else modified
    engine = ENGINE_JOIN.join(journal.engines) or None
    return RecordingSummary(path, started, engine, journal.turns, journal.ended_cleanly)


def newest_first(recordings: list[RecordingSummary]) -> list[RecordingSummary]:
    # Naive and aware times do not compare: order by the wall-clock reading alone.
    return sorted(recordings, key=lambda r: r.started.replace(tzinfo=None), reverse=True)


class HistoryStore(Protocol):
    """The transcripts folder's recordings (implemented by
    ``app.io.recording.history.HistoryFolder``). Blocks on the disk: call via
    ``asyncio.to_thread``; failures raise :class:`~app.core.errors.ExportError`."""

    def recordings(self) -> list[RecordingSummary]:
        """Every recording with words, newest first."""
        ...

    def delete(self, recording: RecordingSummary) -> None:
        """Remove the recording's journal and its text file."""
        ...
