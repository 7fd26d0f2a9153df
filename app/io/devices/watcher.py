"""What both device watchers share: a daemon thread that tells the app the list changed, a
callback guard (the callback is the app's; a bug there must not end hot-plug for the session),
and a bounded stop that never joins itself (``stop`` may be called from inside the callback)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class WatcherThread:
    def __init__(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def _start_thread(self, name: str) -> None:
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _notify(self) -> None:
        try:
            self._on_change()
        except Exception:
            log.exception("Device change callback failed")

    def _stopping_from_own_thread(self) -> bool:
        """Mark the watcher stopped; True when there is nothing to join: called from the
        watcher's own thread (inside the callback), or the thread is not running."""
        self._stop.set()
        return threading.current_thread() is self.thread or not self.is_alive()

    def _warn_if_alive(self, timeout: float) -> None:
        if self.is_alive():
            log.warning("Device watcher thread did not stop within %.1f s", timeout)
