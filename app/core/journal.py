"""The recording journal's format: what a crash leaves on disk, and how it is read back.

Pure: lines in, values out (writing and finding the files is ``app/io/recording``'s job).

A journal is UTF-8 JSON lines, append-only, one file per recording beside its ``.txt``
(:func:`journal_path_for`)::

    {"type": "header", "format": "live-transcriber-journal", "version": 1,
     "started": "2026-12-03T20:41:07", "engine": "cloud", "app_version": "0.1.0"}
    {"type": "turn", "turn": {...}}        one per finished turn, again for each revision
    {"type": "reset"}                      the transcript was cleared: forget earlier turns
    {"type": "engine", "engine": "offline"}  another engine took over (Automatic's fallback)
    {"type": "end", "reason": "closed", "at": "2026-12-03T21:40:00"}

A turn's record holds every field of :func:`app.core.export.turn_to_dict`. The latest record of
a turn key wins, so a revision (the formatted final after the unformatted one, a late real final
after an interrupted one) is one more line, never a rewrite. A recording whose journal has no
end record did not end cleanly: it is offered for recovery at the next start. Recovery and
dismissal add an end record of their own; nothing is ever deleted.

Reading is tolerant, because a crash can tear the last line (or, after a power cut on some
file systems, leave zeros at the end): lines that do not parse are skipped and counted.
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from app.core.errors import ExportError
from app.core.export import turn_from_dict, turn_to_dict
from app.core.transcript import TranscriptTurn, TurnKey, paragraph_text

JOURNAL_FORMAT: Final = "live-transcriber-journal"
JOURNAL_VERSION: Final = 1
JOURNAL_SUFFIX: Final = ".journal.jsonl"

EndReason = Literal["closed", "recovered", "dismissed"]


def journal_path_for(txt_path: Path) -> Path:
    """``2026-12-03_20-41-07.txt`` → ``2026-12-03_20-41-07.journal.jsonl`` (same folder)."""
    return txt_path.with_name(txt_path.stem + JOURNAL_SUFFIX)


def txt_path_for(journal_path: Path) -> Path:
    """The inverse of :func:`journal_path_for`."""
    return journal_path.with_name(journal_path.name.removesuffix(JOURNAL_SUFFIX) + ".txt")


# --- writing ---------------------------------------------------------------------------------


def _line(record: dict[str, Any]) -> str:
    # ensure_ascii=False keeps the file readable; NaN is allowed (a confidence from the wire can
    # be one) because this is the app's own file, read back by json.loads.
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def header_line(started: datetime, engine: str | None, app_version: str) -> str:
    return _line({
        "type": "header",
        "format": JOURNAL_FORMAT,
        "version": JOURNAL_VERSION,
        "started": started.isoformat(timespec="seconds"),
        "engine": engine,
        "app_version": app_version,
    })


def turn_line(turn: TranscriptTurn) -> str:
    return _line({"type": "turn", "turn": turn_to_dict(turn)})


def engine_line(engine: str) -> str:
    """Another engine transcribes from here on (the header names the first)."""
    return _line({"type": "engine", "engine": engine})


def reset_line() -> str:
    return _line({"type": "reset"})


def end_line(reason: EndReason, at: datetime) -> str:
    return _line({"type": "end", "reason": reason, "at": at.isoformat(timespec="seconds")})


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalHeader:
    started: datetime | None  # None when the header's time is missing or unreadable
    engine: str | None
    app_version: str | None


@dataclass(frozen=True)
class Journal:
    """What a journal file says, as far as it could be read."""

    header: JournalHeader | None  # None when the first line was lost
    turns: tuple[TranscriptTurn, ...]  # in key order, each turn's latest record
    end: str | None  # the last end record's reason; None: the recording did not end cleanly
    damaged_lines: int  # lines skipped because they did not parse (a torn last line)
    engines: tuple[str, ...] = ()  # every engine that transcribed, in order, once each in a row

    @property
    def ended_cleanly(self) -> bool:
        return self.end is not None


def _started(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _optional_text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def parse_journal(text: str) -> Journal:
    """Read a journal's text. Never raises for damage: unreadable lines are counted instead."""
    header: JournalHeader | None = None
    turns: dict[TurnKey, TranscriptTurn] = {}
    end: str | None = None
    engines: list[str] = []
    damaged = 0

    def engine_took_over(raw: Any) -> None:
        engine = _optional_text(raw)
        if engine and (not engines or engines[-1] != engine):
            engines.append(engine)

    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip().strip("\x00")
        if not line:
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
            kind = record.get("type")
            if kind == "turn":
                turn = turn_from_dict(record.get("turn"), f"line {number}")
                turns[turn.key] = turn
            elif kind == "header" and record.get("format") == JOURNAL_FORMAT:
                header = JournalHeader(_started(record.get("started")),
                                       _optional_text(record.get("engine")),
                                       _optional_text(record.get("app_version")))
                engine_took_over(record.get("engine"))
            elif kind == "engine":
                engine_took_over(record.get("engine"))
            elif kind == "reset":
                turns.clear()
            elif kind == "end":
                end = _optional_text(record.get("reason")) or "closed"
            # Other types: written by a newer version; what this one knows is still read.
        except (ValueError, RecursionError, ExportError):
            damaged += 1
    ordered = tuple(turns[key] for key in sorted(turns))
    return Journal(header, ordered, end, damaged, tuple(engines))


def first_words(turns: tuple[TranscriptTurn, ...] | list[TranscriptTurn], limit: int = 12
                ) -> str:
    """The first ``limit`` words of the transcript, "…" appended when there are more."""
    words: list[str] = []
    for turn in turns:
        words.extend(paragraph_text(turn.text).split())
        if len(words) > limit:
            return " ".join(words[:limit]) + " …"
    return " ".join(words)


@dataclass(frozen=True)
class UnfinishedRecording:
    """A recording whose journal has no end record: what a "Restore" offer shows."""

    journal: Path
    text_file: Path  # the autosaved .txt beside it (it may lag the journal, or be missing)
    started: datetime | None
    turn_count: int
    first_words: str


class RecoveryStore(Protocol):
    """What a "Restore" offer needs (implemented by ``app.io.recording.journal.JournalFolder``).

    Every method blocks on the disk: call it via ``asyncio.to_thread``. Failures raise
    :class:`ExportError`; nothing is ever deleted.
    """

    def unfinished(self) -> list[UnfinishedRecording]:
        """Recordings that did not end cleanly, newest first."""
        ...

    def load(self, recording: UnfinishedRecording) -> list[TranscriptTurn]:
        """Its finished turns, to put back into the window's transcript."""
        ...

    def restore(self, recording: UnfinishedRecording) -> Path:
        """Mark it recovered (no more offers); its text file is rewritten from the journal and
        returned."""
        ...

    def dismiss(self, recording: UnfinishedRecording) -> None:
        """No more offers for it; the files stay."""
        ...


# --- what went wrong -------------------------------------------------------------------------


def autosave_failure(name: str, error_number: int | None, reason: str) -> ExportError:
    """The sentence for an autosave write that failed with ``error_number`` (an ``errno``).

    Each cause gets its own fix: a full disk is not a permission problem.
    """
    keep = "The transcript is kept in the window; autosave keeps trying"
    if error_number in (errno.ENOSPC, errno.EDQUOT):
        return ExportError(f"Autosave could not write {name}: the disk is full.",
                           remedy=f"Free some disk space, or save elsewhere with Save…. {keep} and "
                           "catches up by itself.")
    if error_number in (errno.EACCES, errno.EPERM):
        return ExportError(f"Autosave could not write {name}: permission denied.",
                           remedy=f"Make the transcripts folder writable for you, or save with "
                           f"Save…. {keep}.")
    if error_number == errno.EROFS:
        return ExportError(f"Autosave could not write {name}: the disk is read-only.",
                           remedy=f"Save the transcript elsewhere with Save…. {keep}.")
    if error_number == errno.EIO:
        return ExportError(f"Autosave could not write {name}: the disk or network drive "
                           "reported an input/output error.",
                           remedy=f"Check the drive or its connection, or save with Save…. "
                           f"{keep}.")
    return ExportError(f"Autosave could not write {name} ({reason}).",
                       remedy=f"Save the transcript elsewhere with Save…. {keep}.")


def autosave_incomplete(name: str, why: str) -> ExportError:
    """Closing gave up: the file may lack the last turns (the window still has them)."""
    return ExportError(f"Autosave of {name} may be incomplete: {why}.",
                       remedy="Save the transcript with Save… before clearing it.")
