"""Saving a transcript file: atomically, so a failed save never leaves half a file behind.

The text goes to a temporary file in the same folder, is flushed to disk, then renamed over
the target. Any OS error (disk full, no permission, folder gone) becomes an
:class:`ExportError` with a plain sentence; the transcript in memory is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from app.core.errors import ExportError


def replace_file(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` atomically (temporary file in the same folder, fsync, rename).

    The new file is 0600 (``mkstemp``'s mode): transcripts are private. Raises ``OSError``;
    the temporary file never stays behind. Blocks.
    """
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``. Blocks: call it via ``asyncio.to_thread``."""
    # errors="replace": text from the wire can hold a lone surrogate (a JSON \ud800 escape).
    try:
        replace_file(path, text.encode("utf-8", errors="replace"))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExportError(
            f"Could not save {path.name} ({reason}).",
            remedy="Choose another folder or free some disk space; nothing was lost.",
        ) from None
