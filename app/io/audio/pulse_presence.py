"""Is a PulseAudio source still there? Told by the sound server itself, over a libpulse
connection of our own (pulsectl).

Needed because the sound server hides an unplug from the recorder: when a source disappears,
PulseAudio (>= 14, and PipeWire) moves its recording streams to the default source, so the
PortAudio callbacks keep coming — with audio from another microphone. Only the server can say
that the chosen source is gone.

The watch subscribes to the server's source events and a thread of its own sleeps in libpulse's
poll until one comes: it wakes only when a source is removed (or the connection ends), never
while nothing changes. (Asking the server every 0.5 s cost two thread hand-offs a second, about
a tenth of the capture's CPU.) :meth:`PulseSourceWatch.is_present` only reads what the thread
was told, so the capture's watchdog checks it on every tick without blocking.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 1.0


class PulseSourceWatch:
    """Knows whether the source ``name`` (server index ``index``) exists, until :meth:`close`.

    Owns ``pulse``, a connection already subscribed to source events; once started, only its
    thread uses it (plus ``event_listen_stop``, which pulsectl documents as callable from
    another thread)."""

    def __init__(self, name: str, index: int, pulse: Any) -> None:
        self.name = name
        self._index = index
        self._pulse = pulse
        self._present = True
        self._stop = threading.Event()
        # Held while waking the thread's loop from another thread and while closing, so a
        # wake-up never touches a freed libpulse main loop.
        self._pulse_lock = threading.Lock()
        self._closed = False
        pulse.event_callback_set(self._on_event)
        self.thread = threading.Thread(target=self._run, name="pulse-source-watch",
                                        daemon=True)
        self.thread.start()

    @classmethod
    def connect(cls, name: str) -> PulseSourceWatch | None:
        """A watch on ``name``, or None when the server cannot be asked (then the caller
        relies on the stream stalling instead). Raises LookupError if ``name`` is not there.
        Blocks (two round trips to the server): call it from a worker thread."""
        try:
            import pulsectl  # Linux only; only PulseAudio devices get here
        except ImportError:
            return None
        try:
            pulse = pulsectl.Pulse("live-transcriber-capture")
        except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
            log.info("cannot watch source %s: no connection to the sound server (%s)", name, exc)
            return None
        try:
            # Subscribed before the look-up: a removal after it reaches the thread as an event.
            pulse.event_mask_set("source")
            index = pulse.get_source_by_name(name).index
        except pulsectl.PulseIndexError:
            pulse.close()
            raise LookupError(name) from None
        except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
            log.info("cannot watch source %s: the sound server did not answer (%s)", name, exc)
            pulse.close()
            return None
        return cls(name, int(index), pulse)

    def is_present(self) -> bool:
        """False once the source is gone, or the sound server itself went away (or the watch
        was closed). Never blocks."""
        return self._present and not self._stop.is_set()

    def _on_event(self, event: Any) -> None:
        import pulsectl

        if event.t == "remove" and event.index == self._index:  # the facility is "source"
            self._present = False
            raise pulsectl.PulseLoopStop

    def _run(self) -> None:
        import pulsectl

        try:
            while self._present and not self._stop.is_set():
                self._pulse.event_listen()
        except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
            if not self._stop.is_set():
                log.info("lost the sound server while watching %s: %s", self.name, exc)
            self._present = False
        finally:
            with self._pulse_lock:
                self._closed = True
                self._pulse.close()

    def close(self) -> None:
        """End the watch (within ~1 s at worst, normally milliseconds). Blocks: call it from a
        worker thread. Safe to call twice."""
        from app.io.devices.pulse import stop_event_listen  # with pulsectl, as connect's import

        self._stop.set()
        stop_event_listen(self.thread, self._pulse, self._pulse_lock, lambda: self._closed,
                          _STOP_TIMEOUT_S)
        if self.thread.is_alive():
            log.warning("the watch on source %s did not stop within %.1f s", self.name,
                        _STOP_TIMEOUT_S)
