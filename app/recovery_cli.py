"""``--recover``: the transcript of the newest recording that did not end cleanly (part of the
composition root, beside ``app/headless.py``).

It prints the transcript (or writes it to ``--out``) in the chosen format, then marks that
recording recovered, so the next ``--recover`` offers the one before it. Nothing is deleted:
the journal and the autosaved text stay in the transcripts folder, the text rewritten to equal
the journal. No unfinished recording is not an error: it says so and exits 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.export import Format, render
from app.io.recording.files import write_text_atomic
from app.io.recording.journal import find_unfinished, load_journal, mark_recovered


def recover(folder: Path, fmt: Format, out: Path | None) -> int:
    """Print or export the newest unfinished recording in ``folder``. Blocks."""
    unfinished = find_unfinished(folder)
    if not unfinished:
        print(f"No unfinished recording in {folder}.", file=sys.stderr)
        return 0
    newest = unfinished[0]
    text = render(fmt, load_journal(newest.journal))
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(out, text)
    text_file = mark_recovered(newest.journal)
    when = newest.started.strftime("%Y-%m-%d %H:%M:%S") if newest.started else "an unknown time"
    print(f"Recovered the recording started {when} ({newest.turn_count} turns)"
          + (f" into {out}" if out is not None else "")
          + f"; it is also kept in {text_file}.", file=sys.stderr)
    if len(unfinished) > 1:
        print(f"{len(unfinished) - 1} older unfinished recording(s) remain: run --recover again.",
              file=sys.stderr)
    return 0
