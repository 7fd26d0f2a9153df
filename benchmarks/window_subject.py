"""The app's window recording the microphone, as a subject of ``bench_cpu``.

Run by ``benchmarks/subjects.py`` (not by hand): ``python -m benchmarks.window_subject [app
options]``. It runs ``app.main.main`` unchanged (the window, its transcript pane, level meter,
caption-ready model and autosave) except that ``app.ui.app_window.run_window`` is wrapped to do
what a person would (``benchmarks/launch_probe.run_app``): once the window is ready it
presses Start recording (the picker's device:
the system's default source), and it writes ``session <id>`` to stderr when the service's Begin
arrives, the line ``--headless`` writes, which the harness waits for. SIGTERM at the end closes
the window as its close button would (app/ui/app_window.py).
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    from benchmarks.launch_probe import run_app

    def began(session_id: str) -> None:
        sys.stderr.write(f"session {session_id}\n")
        sys.stderr.flush()

    def record(window: Any) -> None:
        window.controller.session_changed.connect(began)
        window.record_button.click()

    return run_app(record)


if __name__ == "__main__":
    sys.exit(main())
