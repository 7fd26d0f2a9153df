"""The transcripts folder as the History window's :class:`~app.core.history.HistoryStore`.

Every function blocks on the disk: call them via ``asyncio.to_thread`` from the event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.core.errors import ExportError
from app.core.history import RecordingSummary, newest_first, summarize
from app.core.journal import txt_path_for
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
        for file in (path, txt_path_for(path)):
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:
                raise ExportError(f"Could not delete {file.name} "
                                  f"({exc.strerror or type(exc).__name__}).",
                                  remedy="Check the transcripts folder's permissions.") from None
