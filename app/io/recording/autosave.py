"""Autosave: every finished turn goes to disk as it settles, so nothing is lost on a crash.

One plain-text file per recording, named by its start time (:func:`autosave_name`), one
paragraph per finished turn. Writes happen on one worker thread, in order, so the event loop
never waits for the disk; each write is flushed to the OS before the next is taken.

The 2025 service sends a turn's formatted text after its unformatted final ("revised"): the
last paragraph is then rewritten in place (truncate at its start, write the new text), which
keeps the file equal to what the window shows. A revision of an older paragraph (rare) rewrites
the file.

A failed write (disk full, folder removed) is reported once through ``on_error`` as an
:class:`ExportError`; the transcript stays in memory and later writes are still tried.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from app.core.errors import ExportError
from app.core.transcript import TranscriptChange, TranscriptTurn, paragraph_text

log = logging.getLogger(__name__)


def autosave_name(started: datetime) -> str:
    return started.strftime("%Y-%m-%d_%H-%M-%S") + ".txt"


def _paragraph(turn: TranscriptTurn) -> bytes:
    # errors="replace": text from the wire can hold a lone surrogate (a JSON \ud800 escape).
    return (paragraph_text(turn.text) + "\n\n").encode("utf-8", errors="replace")


class TranscriptAutosave:
    """Appends finished turns of one recording to its file, off the event loop."""

    def __init__(self, path: Path, on_error: Callable[[ExportError], None] | None = None) -> None:
        self.path = path
        self._on_error = on_error
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="autosave")
        # Byte offset where each written paragraph starts; touched only by the worker thread.
        self._starts: list[int] = []
        self._size = 0
        self._failed = False
        self._submit(self._create)

    def apply(self, change: TranscriptChange, finals: Sequence[TranscriptTurn]) -> None:
        """Record one transcript change (call with each of ``change.steps()``)."""
        if change.kind == "partial" or change.index is None:
            return
        if change.kind == "final" and change.index == len(finals) - 1:
            self._submit(self._append, change.turn)
        elif change.kind == "revised" and change.index == len(finals) - 1:
            self._submit(self._replace_last, change.turn)
        else:  # a turn placed or revised before the end: rare, rewrite everything
            self._submit(self._rewrite, tuple(finals))

    def close(self) -> None:
        """Wait for pending writes and stop the worker. Blocks: call via asyncio.to_thread."""
        self._pool.shutdown(wait=True)

    # --- worker thread ----------------------------------------------------------------------

    def _submit(self, fn: Callable[..., None], *args: object) -> None:
        try:
            self._pool.submit(self._guarded, fn, *args)
        except RuntimeError:  # after close(): a late change has nowhere to go but memory
            log.warning("autosave already closed; change kept in memory only")

    def _guarded(self, fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except OSError as exc:
            log.warning("autosave write failed: %s", exc.strerror or type(exc).__name__)
            if not self._failed and self._on_error is not None:
                self._on_error(ExportError(
                    f"Autosave could not write to {self.path} ({exc.strerror or 'I/O error'}).",
                    remedy="Free some disk space; the transcript is kept in the window — "
                    "save it elsewhere with Save….",
                ))
            self._failed = True
        else:
            self._failed = False

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Append mode: two recordings started in the same second share a file, and neither
        # overwrites the other.
        with open(self.path, "ab") as file:
            self._size = file.tell()

    def _write_at(self, offset: int, data: bytes) -> None:
        with open(self.path, "r+b") as file:
            if offset != self._size:  # rewriting: drop the old tail first
                file.truncate(offset)
            file.seek(offset)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        self._size = offset + len(data)

    def _append(self, turn: TranscriptTurn) -> None:
        data = _paragraph(turn)
        start = self._size
        self._write_at(start, data)
        self._starts.append(start)

    def _replace_last(self, turn: TranscriptTurn) -> None:
        if not self._starts:
            self._append(turn)
            return
        self._write_at(self._starts[-1], _paragraph(turn))

    def _rewrite(self, finals: Sequence[TranscriptTurn]) -> None:
        starts, offset, chunks = [], 0, []
        for turn in finals:
            data = _paragraph(turn)
            starts.append(offset)
            chunks.append(data)
            offset += len(data)
        self._write_at(0, b"".join(chunks))
        self._starts = starts
