"""Recovery: finding the recordings that did not end cleanly, and reading them back.

A journal without an end record (format in :mod:`app.core.journal`) belongs to a recording
whose process died: a crash, SIGKILL, a power cut. :func:`find_unfinished` lists them, newest
first, skipping journals a live recording still holds (another window of the app). Nothing
here ever deletes a file: :func:`mark_recovered` and :func:`dismiss` add an end record, so the
offer is not made again, and the journal and text stay where they are.

Every function blocks on the disk: call them via ``asyncio.to_thread`` from the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from app.core.errors import ExportError
from app.core.export import to_txt
from app.core.journal import (
    JOURNAL_SUFFIX,
    EndReason,
    Journal,
    UnfinishedRecording,
    end_line,
    first_words,
    parse_journal,
    txt_path_for,
)
from app.core.transcript import TranscriptTurn
from app.io.recording.files import replace_file

log = logging.getLogger(__name__)


def read_journal(path: Path) -> Journal:
    """Everything a journal says (tolerating a torn last line). Raises ``OSError``."""
    # errors="replace": a torn multi-byte character at the end must not hide the rest.
    return parse_journal(path.read_bytes().decode("utf-8", errors="replace"))


def load_journal(path: Path) -> list[TranscriptTurn]:
    """The finished turns a journal holds, in transcript order."""
    try:
        return list(read_journal(path).turns)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def is_held(path: Path) -> bool:
    """True while a live recording writes this journal (see ``autosave.hold_journal``)."""
    if sys.platform == "win32":
        return False
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops our own shared lock, if we got it
    return False


def readable_journals(folder: Path) -> Iterator[tuple[Path, Journal, datetime]]:
    """Every journal in ``folder`` that can be read, with its modification time, in name
    (= start time) order; unreadable ones are logged and skipped."""
    try:
        candidates = sorted(folder.glob("*" + JOURNAL_SUFFIX))
    except OSError as exc:
        log.warning("cannot list %s: %s", folder, exc.strerror)
        return
    for path in candidates:
        try:
            journal = read_journal(path)
            modified = datetime.fromtimestamp(path.stat().st_mtime)
        except OSError as exc:
            log.warning("cannot read journal %s: %s", path.name, exc.strerror)
            continue
        yield path, journal, modified


def find_unfinished(folder: Path) -> list[UnfinishedRecording]:
    """Recordings in ``folder`` that did not end cleanly and hold words, newest first."""
    found: list[tuple[datetime, UnfinishedRecording]] = []
    for path, journal, modified in readable_journals(folder):
        if journal.ended_cleanly or not journal.turns or is_held(path):
            continue
        started = journal.header.started if journal.header is not None else None
        found.append((started or modified, UnfinishedRecording(
            journal=path, text_file=txt_path_for(path), started=started,
            turn_count=len(journal.turns), first_words=first_words(journal.turns))))
    # Naive and aware times do not compare: order by the wall-clock reading alone.
    found.sort(key=lambda item: item[0].replace(tzinfo=None), reverse=True)
    return [recording for _, recording in found]


def mark_recovered(path: Path) -> Path:
    """Close the journal as recovered and rewrite its text file from it; returns the text file.

    The text file may lag the journal by the last turn (a crash between the two writes), so
    after this it equals the journal again.
    """
    turns = load_journal(path)
    text_file = txt_path_for(path)
    try:
        replace_file(text_file, to_txt(turns).encode("utf-8", errors="replace"))
    except OSError as exc:
        raise _unwritable(text_file, exc) from None
    _close_journal(path, "recovered")
    return text_file


def dismiss(path: Path) -> None:
    """Close the journal as dismissed: no more offers; the files stay."""
    _close_journal(path, "dismissed")


def _close_journal(path: Path, reason: EndReason) -> None:
    if is_held(path):
        raise ExportError(f"{path.name} is still being recorded by another window.",
                          remedy="Stop that recording first.")
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        size = os.fstat(fd).st_size
        torn = False
        if size:  # a torn last line must not swallow the end record
            os.lseek(fd, size - 1, os.SEEK_SET)
            torn = os.read(fd, 1) != b"\n"
        line = ("\n" if torn else "") + end_line(reason, datetime.now())
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _unreadable(path: Path, exc: OSError) -> ExportError:
    return ExportError(f"Could not read {path.name} ({exc.strerror or type(exc).__name__}).",
                       remedy="Check that the transcripts folder is readable for you.")


def _unwritable(path: Path, exc: OSError) -> ExportError:
    return ExportError(f"Could not update {path.name} ({exc.strerror or type(exc).__name__}).",
                       remedy="Check the transcripts folder's free space and permissions; "
                       "nothing was deleted.")


class JournalFolder:
    """The transcripts folder as a :class:`~app.core.journal.RecoveryStore`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def unfinished(self) -> list[UnfinishedRecording]:
        return find_unfinished(self.folder)

    def load(self, recording: UnfinishedRecording) -> list[TranscriptTurn]:
        return load_journal(recording.journal)

    def restore(self, recording: UnfinishedRecording) -> Path:
        return mark_recovered(recording.journal)

    def dismiss(self, recording: UnfinishedRecording) -> None:
        dismiss(recording.journal)
