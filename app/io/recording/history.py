"""The transcripts folder as the History window's :class:`~app.core.history.HistoryStore`.

Every function blocks on the disk: call them via ``asyncio.to_thread`` from the event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.core.errors import ExportError
from app.core.history import RecordingSummary, newest_first, summarize
from app.core.journal import journal_path_for, txt_path_for
from app.io.recording.journal import is_held, readable_journals

log = logging.getLogger(__name__)


class HistoryFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def recordings(self) -> list[RecordingSummary]:
        found: list[RecordingSummary] = []
        for path, journal, modified in readable_journals(self.folder):
            if journal.turns:
                found.append(summarize(path, journal, modified))
        return newest_first(found)

    def delete(self, recording: RecordingSummary) -> None:
        path = recording.journal
        if is_held(path):
            raise ExportError(f"{path.name} is still being recorded.",
                              remedy="Stop that recording first.")
        _remove((path, txt_path_for(path)), "delete ",
                remedy="Check the transcripts folder's permissions.")


def discard_recording(path: str) -> None:
    """Remove a recording's autosave (text and journal): a file that failed partway leaves
    no half transcript behind."""
    text = Path(path)
    _remove((text, journal_path_for(text)), "remove the partial transcript ",
            remedy="Delete it from the History window.")


def _remove(files: tuple[Path, ...], doing: str, *, remedy: str) -> None:
    for file in files:
        try:
            file.unlink(missing_ok=True)
        except OSError as exc:
            raise ExportError(f"Could not {doing}{file.name} "
                              f"({exc.strerror or type(exc).__name__}).",
                              remedy=remedy) from None
