"""Input devices from the PulseAudio/PipeWire sound server (Linux), with hot-plug.

PortAudio on Linux only sees the server as ALSA's ``pulse``/``default`` devices (see
shared/ARCHITECTURE.md, "Audio devices on Linux"), so the list comes from the server itself
through ``pulsectl`` (libpulse; PipeWire serves the same protocol). A device's ``id`` is the
source name; capture records it through PortAudio's ``pulse`` device with that source selected
for the stream (``PULSE_SOURCE``). Nothing here changes the system default source.

Sources are grouped by what they record: microphones (and other inputs), and system audio —
each sink's monitor, named "Sound from <sink>", which captures what the computer plays there.

Every method blocks on the sound server: call them off the UI thread. ``on_change`` runs on the
watcher thread.

libpulse objects are not thread-safe, so each ``list_devices()`` call opens its own short
connection and the watcher thread owns another one; no connection is ever shared.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pulsectl

from app.core.devices import MICROPHONE, SYSTEM_AUDIO, InputDevice
from app.core.errors import AudioError
from app.io.devices.pulsectl_compat import source_info_lister
from app.io.devices.watcher import WatcherThread

log = logging.getLogger(__name__)

CLIENT_NAME: Final = "live-transcriber"
HOST_API: Final = "PulseAudio"
# A new sink adds its monitor source and then changes it within ~1 ms: wait until the server has
# been quiet this long before re-reading, so one plug gives one notification.
SETTLE_S: Final = 0.05
SETTLE_MAX_ROUNDS: Final = 20  # never defer a notification by more than ~1 s of steady events
STOP_TIMEOUT_S: Final = 1.0
WATCHER_THREAD_NAME: Final = "pulse-device-watcher"


def stop_event_listen(thread: threading.Thread, pulse: Any, lock: threading.Lock,
                      closed: Callable[[], bool], timeout: float) -> None:
    """Wake ``thread``, blocked in pulsectl's ``event_listen`` on ``pulse``, until it has left
    the loop or ``timeout`` has passed. ``event_listen_stop`` is lost if it lands between two
    ``event_listen`` calls (pulsectl resets the flag on entry), so it is repeated; ``lock``
    and ``closed`` keep it off a connection the thread has already closed."""
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        with lock:
            if not closed():
                pulse.event_listen_stop()
        thread.join(0.02)

_PA_INVALID_INDEX: Final = 0xFFFFFFFF


@dataclass(frozen=True)
class _Source:
    name: str
    description: str
    rate: int
    channels: int
    is_monitor: bool
    monitor_of_sink: int | None  # the sink's index, for a monitor source

    @classmethod
    def from_struct(cls, info: Any) -> _Source:
        """Copy a ``pa_source_info`` while libpulse's callback still owns it.

        pulsectl's own ``PulseSourceInfo`` keeps ``sample_spec`` as a ctypes view into that
        callback's memory, which libpulse reuses for the next source: measured with two sources,
        the first one reported the second one's rate and channel count. So every field is copied
        here, inside the callback.
        """
        name = _text(info.name)
        monitor_of_sink = int(info.monitor_of_sink)
        return cls(
            name=name,
            description=_text(info.description) or name,
            rate=int(info.sample_spec.rate),
            channels=int(info.sample_spec.channels),
            is_monitor=monitor_of_sink != _PA_INVALID_INDEX or name.endswith(".monitor"),
            monitor_of_sink=None if monitor_of_sink == _PA_INVALID_INDEX else monitor_of_sink,
        )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


# Copies each source inside libpulse's info callback (a private pulsectl API, kept in
# pulsectl_compat); test_devices checks the copied sample specs.
_list_sources: Callable[[Any], list[_Source]] = source_info_lister(_Source.from_struct)


def _unreachable(cause: BaseException) -> AudioError:
    return AudioError(
        "Could not reach the sound server (PulseAudio/PipeWire).",
        remedy="Make sure PulseAudio or PipeWire is running, then press Refresh.",
        retryable=True,
        detail=str(cause),
    )


def _connect(server: str | None) -> Any:
    """A connected ``pulsectl.Pulse``; the caller closes it. Never autospawns a daemon: with no
    server running, the person should be told, not get a private one nobody else uses.

    No ``timeout=``: in pulsectl 24.12.0 it makes every connect wait the whole timeout even
    when the server answered at once (measured 3.004 s for 3 s, against 3 ms without). A missing
    server fails at once anyway; one that accepts but never answers is given up by libpulse
    after its own 30 s reply timeout (measured 30.03 s)."""
    pulse = pulsectl.Pulse(CLIENT_NAME, server=server, connect=False)
    try:
        pulse.connect(autospawn=False)
    except pulsectl.PulseError as exc:
        pulse.close()
        raise _unreachable(exc) from exc
    return pulse


def _read_devices(pulse: Any) -> list[InputDevice]:
    """Sources in display order: the default, then microphones, then system audio (each
    sink's monitor, named "Sound from <the sink's description>"), each group by name, except
    that the default output's monitor leads its group."""
    try:
        server = pulse.server_info()
        default_name = _text(server.default_source_name)
        default_sink = _text(server.default_sink_name)
        sources = _list_sources(pulse)
        sinks = pulse.sink_list()
        sink_names = {int(sink.index): _text(sink.description) or _text(sink.name)
                      for sink in sinks}
        default_sink_index = next(
            (int(sink.index) for sink in sinks if _text(sink.name) == default_sink), None)
    except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
        raise _unreachable(exc) from exc
    devices = [
        InputDevice(
            id=s.name,
            name=_display_name(s, sink_names),
            host_api=HOST_API,
            channels=s.channels,
            default_rate=s.rate,
            is_default=s.name == default_name,
            is_monitor=s.is_monitor,
            kind=SYSTEM_AUDIO if s.is_monitor else MICROPHONE,
            is_default_output=s.is_monitor and s.monitor_of_sink == default_sink_index,
        )
        for s in sources
    ]
    devices.sort(key=lambda d: (not d.is_default, d.is_monitor, not d.is_default_output,
                                d.name.casefold(), d.id))
    return devices


def _display_name(source: _Source, sink_names: dict[int, str]) -> str:
    """A monitor is named for what it records: the sound of its sink. The server's own
    description ("Monitor of …") is localised and says how, not what."""
    if not source.is_monitor:
        return source.description
    sink = sink_names.get(source.monitor_of_sink) if source.monitor_of_sink is not None else None
    return f"Sound from {sink}" if sink else source.description


class PulseDeviceProvider:
    """``DeviceProvider`` for Linux desktops: lists the sound server's sources and watches them.

    ``server`` is a libpulse server string (``unix:/path/native``, ``tcp:host``); ``None`` means
    what every other client on the desktop uses (``PULSE_SERVER`` or the user's socket).
    Methods block on the server: call them off the UI thread.
    """

    def __init__(self, server: str | None = None) -> None:
        self._server = server
        self._lock = threading.Lock()  # guards _watcher against concurrent start/stop
        self._watcher: _SourceWatcher | None = None

    def list_devices(self) -> list[InputDevice]:
        """Every source the server has. Raises ``AudioError`` when it cannot be reached."""
        pulse = _connect(self._server)
        try:
            return _read_devices(pulse)
        finally:
            pulse.close()

    def start_watching(self, on_change: Callable[[], None]) -> None:
        """Call ``on_change()`` from a daemon thread whenever the list would read differently
        (a source added, removed or renamed, or another default). Bursts give one call. If the
        server goes away, ``on_change`` is called once more and watching ends.

        Raises ``AudioError`` when the server cannot be reached, ``RuntimeError`` when already
        watching. Events are subscribed before this returns, so no change made after it is
        missed."""
        with self._lock:
            if self._watcher is not None and self._watcher.is_alive():
                raise RuntimeError("PulseDeviceProvider is already watching")
            self._watcher = _SourceWatcher(_connect(self._server), on_change)

    def stop_watching(self) -> None:
        """End the watcher thread (within ~1 s at worst, normally milliseconds). Safe to call
        when not watching, and from ``on_change`` itself."""
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(STOP_TIMEOUT_S)


class _SourceWatcher(WatcherThread):
    """Owns one connection, used only by its thread once started (plus ``event_listen_stop``,
    which pulsectl documents as callable from another thread)."""

    def __init__(self, pulse: Any, on_change: Callable[[], None]) -> None:
        super().__init__(on_change)
        self._pulse = pulse
        self._dirty = False  # an event arrived that has not been read back yet
        # Held while waking the loop from another thread and while closing, so a wake-up never
        # touches a freed libpulse main loop.
        self._pulse_lock = threading.Lock()
        self._closed = False
        try:
            pulse.event_mask_set("source", "sink", "server")
            pulse.event_callback_set(self._on_event)
            self._last = _read_devices(pulse)
        except (pulsectl.PulseError, pulsectl.PulseDisconnected) as exc:
            pulse.close()
            raise _unreachable(exc) from exc
        except AudioError:
            pulse.close()
            raise
        self._start_thread(WATCHER_THREAD_NAME)

    def _on_event(self, event: Any) -> None:
        # libpulse forbids queries from inside its callback: leave the loop, read afterwards.
        self._dirty = True
        raise pulsectl.PulseLoopStop

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self._dirty:
                    self._pulse.event_listen()
                    continue
                self._settle()
                self._dirty = False  # events dispatched while reading set it again
                current = _read_devices(self._pulse)
                if current != self._last and not self._stop.is_set():
                    self._last = current
                    self._notify()
        except (pulsectl.PulseDisconnected, pulsectl.PulseError, AudioError) as exc:
            if not self._stop.is_set():
                log.info("Sound server connection lost; device watching ended: %s", exc)
                self._notify()
        finally:
            with self._pulse_lock:
                self._closed = True
                self._pulse.close()

    def _settle(self) -> None:
        for _ in range(SETTLE_MAX_ROUNDS):
            self._dirty = False
            self._pulse.event_listen(timeout=SETTLE_S)
            if not self._dirty or self._stop.is_set():
                return

    def stop(self, timeout: float) -> None:
        if self._stopping_from_own_thread() or self.thread is None:
            return  # from on_change: the loop sees _stop as soon as the callback returns
        stop_event_listen(self.thread, self._pulse, self._pulse_lock, lambda: self._closed,
                          timeout)
        self._warn_if_alive(timeout)
