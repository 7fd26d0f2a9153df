"""The app's window recording the microphone, as a subject of ``bench_cpu``.

Run by ``benchmarks/subjects.py`` (not by hand): ``python -m benchmarks.window_subject [app
options]``. It runs ``app.main.main`` unchanged (the window, its transcript pane, level meter,
caption-ready model and autosave) except that ``app.ui.app_window.run_window`` is wrapped to do
what a person would: once the window is ready it presses Start recording (the picker's device:
the system's default source), and it writes ``session <id>`` to stderr when the service's Begin
arrives, the line ``--headless`` writes, which the harness waits for. SIGTERM at the end closes
the window as its close button would (app/ui/app_window.py).
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    import app.ui.app_window as app_window
    from app.main import main as app_main

    original = app_window.run_window

    async def run_window(window: Any) -> None:
        controller = window.controller
        initialize = controller.initialize

        def began(session_id: str) -> None:
            sys.stderr.write(f"session {session_id}\n")
            sys.stderr.flush()

        async def initialize_then_record() -> None:
            await initialize()
            controller.session_changed.connect(began)
            window.record_button.click()

        controller.initialize = initialize_then_record
        await original(window)

    app_window.run_window = run_window
    return app_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
