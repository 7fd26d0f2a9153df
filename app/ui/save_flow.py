"""Choosing where and how to save: the format follows the typed extension, else the filter.

The default name carries the recording's date and time, and the dialog opens in the folder
used last (kept in :class:`Preferences`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.core.export import Format

FILTERS = {
    Format.TXT: "Plain text (*.txt)",
    Format.SRT: "SubRip subtitles (*.srt)",
    Format.VTT: "WebVTT subtitles (*.vtt)",
    Format.JSON: "JSON with word timings (*.json)",
}


def default_name(started: datetime | None, fmt: Format = Format.TXT) -> str:
    """``transcript 2026-12-03 20-41.txt``: sortable, and valid on every file system."""
    if started is None:
        return "transcript" + fmt.suffix
    return f"transcript {started:%Y-%m-%d %H-%M}{fmt.suffix}"


def format_of(suffix: str) -> Format | None:
    try:
        return Format(suffix.lower().removeprefix("."))
    except ValueError:
        return None


def resolve(path_text: str, chosen_filter: str) -> tuple[Path, Format]:
    """Where to write and in which format: a known extension the person typed wins over the
    filter; without one, the filter's format and its extension are used."""
    path = Path(path_text)
    typed = format_of(path.suffix)
    if typed is not None:
        return path, typed
    fmt = next((f for f, label in FILTERS.items() if label == chosen_filter), Format.TXT)
    # "notes.final" keeps its name: the format's suffix is added, not swapped in.
    return path.with_name(path.name + fmt.suffix), fmt
