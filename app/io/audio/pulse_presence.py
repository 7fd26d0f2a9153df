"""Is a PulseAudio source still there? Asked over a libpulse connection of our own (pulsectl).

Needed because the sound server hides an unplug from the recorder: when a source disappears,
PulseAudio (>= 14, and PipeWire) moves its recording streams to the default source, so the
PortAudio callbacks keep coming — with audio from another microphone. Only the server can say
that the chosen source is gone. Methods block (a round trip to the server, well under 1 ms
locally): call them from a worker thread. A lock serialises them, because a check still running
in one worker thread may meet ``close`` from another.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class PulseSourceWatch:
    """Answers whether the source ``name`` exists, until :meth:`close`."""

    def __init__(self, name: str, pulse: Any) -> None:
        self.name = name
        self._pulse = pulse
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, name: str) -> PulseSourceWatch | None:
        """A watch on ``name``, or None when the server cannot be asked (then the caller
        relies on the stream stalling instead). Raises LookupError if ``name`` is not there."""
        try:
            import pulsectl  # Linux only; only PulseAudio devices get here
        except ImportError:
            return None
        try:
            pulse = pulsectl.Pulse("live-transcriber-capture")
        except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
            log.info("cannot watch source %s: no connection to the sound server (%s)", name, exc)
            return None
        watch = cls(name, pulse)
        if not watch.is_present():
            watch.close()
            raise LookupError(name)
        return watch

    def is_present(self) -> bool:
        """False when the source is gone, or the sound server itself went away."""
        import pulsectl

        with self._lock:
            if self._pulse is None:
                return False
            try:
                self._pulse.get_source_by_name(self.name)
            except pulsectl.PulseIndexError:
                return False
            except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
                log.info("lost the sound server while watching %s: %s", self.name, exc)
                return False
            return True

    def close(self) -> None:
        with self._lock:
            if self._pulse is not None:
                self._pulse.close()
                self._pulse = None
