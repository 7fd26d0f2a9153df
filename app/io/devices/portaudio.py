"""Input devices from PortAudio (PyAudio): the device list on Windows and macOS, and the
fallback on Linux when no PulseAudio/PipeWire server answers.

A device's ``id`` is ``"<host api>:<device name>"`` (e.g. ``"MME:Microphone (USB Audio)"``);
PortAudio's numeric index is not an identity. Two input devices with the same host API and name
get ``#2``, ``#3`` … in index order (see :func:`unique_ids`).

PortAudio only notices new devices when it is initialised again, so every scan opens a fresh
``PyAudio()`` and terminates it. A scan is skipped while a capture stream is open (the
``stream_open`` callable says so) and the last list is returned instead: re-scanning then would
cost the capture machine work for nothing, because PortAudio's initialisation is
reference-counted — while any other ``PyAudio`` instance in the process is alive, a new one sees
the device list from when that one started. Hot-plug is therefore polling: a daemon thread
re-lists every few seconds and reports when the list reads differently.

Every method blocks (a scan can take hundreds of milliseconds on Windows): call them off the UI
thread. ``on_change`` runs on the watcher thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from app.core.devices import SYSTEM_AUDIO, InputDevice, kind_from_name
from app.core.errors import AudioError
from app.io.audio.portaudio_quiet import new_portaudio
from app.io.audio.portaudio_stream import PORTAUDIO_LIFETIME_LOCK
from app.io.devices.watcher import WatcherThread

log = logging.getLogger(__name__)

POLL_INTERVAL_S: Final = 3.0
STOP_TIMEOUT_S: Final = 1.0
WATCHER_THREAD_NAME: Final = "portaudio-device-watcher"


def unique_ids(base_ids: Sequence[str]) -> list[str]:
    """Make ``base_ids`` (in PortAudio index order) unique: the first of each keeps its id, later
    ones get ``#2``, ``#3`` … A suffix never takes an id that a device really has as its name."""
    real = set(base_ids)
    used: set[str] = set()
    result: list[str] = []
    for base in base_ids:
        candidate = base
        number = 1
        while candidate in used or (candidate != base and candidate in real):
            number += 1
            candidate = f"{base}#{number}"
        used.add(candidate)
        result.append(candidate)
    return result


def _default_input_index(pa: Any) -> int:
    try:
        return int(pa.get_default_input_device_info()["index"])
    except OSError:
        return -1  # PyAudio raises IOError when there is no default input device


def _scan(pa: Any) -> list[InputDevice]:
    """Input devices, the default first, then in PortAudio's order (grouped by host API);
    loopback inputs ("Stereo Mix", BlackHole …) are marked as system audio."""
    default_index = _default_input_index(pa)
    rows: list[tuple[int, str, str, int, int]] = []
    for index in range(int(pa.get_device_count())):
        info = pa.get_device_info_by_index(index)
        channels = int(info["maxInputChannels"])
        if channels <= 0:
            continue  # output-only
        host_api = str(pa.get_host_api_info_by_index(int(info["hostApi"]))["name"])
        rate = round(float(info["defaultSampleRate"]))
        rows.append((index, host_api, str(info["name"]), channels, rate))
    ids = unique_ids([f"{host_api}:{name}" for _, host_api, name, _, _ in rows])
    devices = [
        InputDevice(
            id=device_id,
            name=name,
            host_api=host_api,
            channels=channels,
            default_rate=rate,
            is_default=index == default_index,
            is_monitor=kind_from_name(name) == SYSTEM_AUDIO,
            kind=kind_from_name(name),
        )
        for device_id, (index, host_api, name, channels, rate) in zip(ids, rows, strict=True)
    ]
    devices.sort(key=lambda d: not d.is_default)  # stable: keeps index order otherwise
    return devices


class PortAudioDeviceProvider:
    """``DeviceProvider`` on PyAudio.

    ``stream_open`` tells whether the app's capture has a PortAudio stream open; while it does,
    ``list_devices`` returns the last scan instead of re-initialising PortAudio. The capture
    code owns that knowledge, so the composition root passes e.g. ``lambda: capture.is_open``.
    ``open_portaudio`` creates the PortAudio session for one scan (tests count the scans).
    """

    def __init__(
        self,
        stream_open: Callable[[], bool] = lambda: False,
        *,
        poll_interval: float = POLL_INTERVAL_S,
        open_portaudio: Callable[[], Any] = new_portaudio,
    ) -> None:
        self._stream_open = stream_open
        self._poll_interval = poll_interval
        self._open_portaudio = open_portaudio
        self._lock = threading.Lock()  # one scan at a time; guards _last_scan
        self._last_scan: list[InputDevice] | None = None
        self._watch_lock = threading.Lock()  # guards _watcher against concurrent start/stop
        self._watcher: PollingWatcher | None = None

    def list_devices(self) -> list[InputDevice]:
        """Input devices; a fresh PortAudio scan unless a capture stream is open.
        Raises ``AudioError`` when PortAudio cannot be initialised or queried."""
        with self._lock:
            if self._last_scan is not None and self._stream_open():
                return list(self._last_scan)
            # PortAudio's global set-up and tear-down are not thread-safe: share capture's lock.
            with PORTAUDIO_LIFETIME_LOCK:
                try:
                    pa = self._open_portaudio()
                except OSError as exc:
                    raise _scan_failed(exc) from exc
                try:
                    devices = _scan(pa)
                except (OSError, KeyError, ValueError) as exc:
                    raise _scan_failed(exc) from exc
                finally:
                    pa.terminate()
            self._last_scan = devices
            return list(devices)

    def start_watching(self, on_change: Callable[[], None]) -> None:
        """Poll every ``poll_interval`` seconds on a daemon thread; call ``on_change()`` when the
        list reads differently (devices, names or the default). Raises ``RuntimeError`` when
        already watching and ``AudioError`` when the first scan fails."""
        with self._watch_lock:
            if self._watcher is not None and self._watcher.is_alive():
                raise RuntimeError("PortAudioDeviceProvider is already watching")
            watcher = PollingWatcher(self.list_devices, on_change, self._poll_interval)
            watcher.start()
            self._watcher = watcher

    def stop_watching(self) -> None:
        """End the polling thread (promptly unless a scan is running). Safe when not watching."""
        with self._watch_lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(STOP_TIMEOUT_S)


def _scan_failed(cause: BaseException) -> AudioError:
    return AudioError(
        "Could not list the audio input devices (PortAudio).",
        remedy="Check that a microphone is connected and allowed for this app, then press Refresh.",
        retryable=True,
        detail=str(cause),
    )


class PollingWatcher(WatcherThread):
    """Calls ``on_change()`` from a daemon thread when ``list_devices()`` reads differently.

    The comparison ignores order. A failing list (``AudioError``) counts as a state of its own,
    so the owner hears about it once and again once it recovers.
    """

    def __init__(
        self,
        list_devices: Callable[[], list[InputDevice]],
        on_change: Callable[[], None],
        interval: float,
    ) -> None:
        super().__init__(on_change)
        self._list_devices = list_devices
        self._interval = interval
        self._last: frozenset[InputDevice] | None = None

    def start(self) -> None:
        """Take the first snapshot here, so a change right after ``start`` returns is seen."""
        self._last = frozenset(self._list_devices())
        self._start_thread(WATCHER_THREAD_NAME)

    def _snapshot(self) -> frozenset[InputDevice] | None:
        try:
            return frozenset(self._list_devices())
        except AudioError as exc:
            log.warning("Device scan failed: %s", exc)
            return None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            current = self._snapshot()
            if current != self._last and not self._stop.is_set():
                self._last = current
                self._notify()

    def stop(self, timeout: float) -> None:
        if self._stopping_from_own_thread() or self.thread is None:
            return
        self.thread.join(timeout)
        self._warn_if_alive(timeout)
