"""Run a command as a child subreaper; report how every process it leaves behind exits.

    python tests/packaging/reaper.py gio launch app.desktop

``gio launch`` starts the app and exits at once, so the app is orphaned and would normally
be adopted by init, its exit status lost. Marked as a subreaper (Linux ``prctl``), this
process adopts it instead. It prints one JSON line per reaped process, ``{"pid": ..,
"exit": ..}`` (negative: killed by that signal), and exits once no descendant is left.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Sequence

PR_SET_CHILD_SUBREAPER = 36


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: reaper.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(error)}")
    os.posix_spawnp(argv[0], list(argv), os.environ)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        print(json.dumps({"pid": pid, "exit": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
