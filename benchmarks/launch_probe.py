"""The app as ``python -m app.main`` starts it, reporting when it is shown and ready.

Run by ``benchmarks/bench_launch.py`` (not by hand): ``python -m benchmarks.launch_probe
[app options]``. It runs ``app.main.main`` unchanged except that ``app.ui.app_window.run_window``
is wrapped, which adds three things, all outside the app's own work:

* ``SHOWN <t>``  the main window's first paint has finished (an event filter on the window);
* ``READY <t> devices=<n> engine=<text>``  ``controller.initialize()`` has returned: the key
  loaded, the input devices listed, the engine chosen (what the Record button waits for);
* then it asks the window to close, as a person closing it would, and the app exits.

``<t>`` is ``time.monotonic()`` (CLOCK_MONOTONIC, the same clock in every process on Linux),
so the parent measures from just before it started this process, interpreter start included.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def _report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_app(after_initialize: Callable[[Any], None],
            before_show: Callable[[Any], None] | None = None) -> int:
    """``app.main.main`` on this process's arguments, unchanged except that
    ``app.ui.app_window.run_window`` calls ``before_show(window)`` first and
    ``after_initialize(window)`` once ``controller.initialize()`` has returned (the key loaded,
    the devices listed, the engine chosen). Shared with ``benchmarks/window_subject.py``."""
    import app.ui.app_window as app_window
    from app.main import main as app_main

    original = app_window.run_window

    async def run_window(window: Any) -> None:
        if before_show is not None:
            before_show(window)
        controller = window.controller
        initialize = controller.initialize

        async def initialize_then() -> None:
            await initialize()
            after_initialize(window)

        controller.initialize = initialize_then
        await original(window)

    app_window.run_window = run_window
    return app_main(sys.argv[1:])


def main() -> int:
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                # After the paint itself: stamp once the window's own handler has run.
                watched.event(event)
                _report(f"SHOWN {time.monotonic():.6f}")
                return True
            return False

    painted = FirstPaint()

    def ready(window: Any) -> None:
        devices = window.device_picker.count()
        _report(f"READY {time.monotonic():.6f} devices={devices} "
                f"engine={window.controller.engine_status.text!r}")
        window.close()  # the person closes it: the app shuts down as usual

    return run_app(ready, before_show=lambda window: window.installEventFilter(painted))


if __name__ == "__main__":
    sys.exit(main())
