"""Save: the typed extension names the format, else the chosen filter; the default name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.core.export import Format
from app.ui.save_flow import FILTERS, default_name, resolve

TXT, SRT, VTT, JSON = FILTERS[Format.TXT], FILTERS[Format.SRT], FILTERS[Format.VTT], FILTERS[
    Format.JSON]


@pytest.mark.parametrize(("typed", "chosen", "path", "fmt"), [
    ("/t/meeting.srt", TXT, "/t/meeting.srt", Format.SRT),  # the typed extension wins
    ("/t/meeting.VTT", TXT, "/t/meeting.VTT", Format.VTT),
    ("/t/meeting.json", SRT, "/t/meeting.json", Format.JSON),
    ("/t/meeting.txt", JSON, "/t/meeting.txt", Format.TXT),
    ("/t/meeting", SRT, "/t/meeting.srt", Format.SRT),  # none typed: the filter's
    ("/t/meeting", "", "/t/meeting.txt", Format.TXT),
    ("/t/notes.final", VTT, "/t/notes.final.vtt", Format.VTT),  # unknown: kept, suffix added
])
def test_the_format_follows_the_typed_extension_else_the_filter(
    typed: str, chosen: str, path: str, fmt: Format,
) -> None:
    assert resolve(typed, chosen) == (Path(path), fmt)


def test_the_default_name_carries_the_recordings_date_and_time() -> None:
    assert default_name(datetime(2026, 12, 3, 20, 41, 7)) == "transcript 2026-12-03 20-41.txt"
    assert default_name(None) == "transcript.txt"
    assert default_name(datetime(2026, 1, 2, 3, 4), Format.SRT) == "transcript 2026-01-02 03-04.srt"
