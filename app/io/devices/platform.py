"""Which device provider this machine gets.

Linux: the sound server's own source list (``PulseDeviceProvider``) when a PulseAudio or
PipeWire server answers, because PortAudio there only sees the server as ALSA's ``pulse`` and
``default`` devices, never its individual microphones or ones plugged in later. Without a sound
server (a bare ALSA system), PortAudio's list is the best there is: it shows the ``hw:`` cards.
Windows and macOS: PortAudio's list (``PortAudioDeviceProvider``), which is the system's own.

``pulsectl`` is imported only on Linux, so this module imports everywhere.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from app.core.devices import DeviceProvider
from app.core.errors import AudioError
from app.io.devices.portaudio import PortAudioDeviceProvider

log = logging.getLogger(__name__)


def default_provider(stream_open: Callable[[], bool] | None = None) -> DeviceProvider:
    """The provider for this platform. Blocks (it asks the sound server once): call it off the
    UI thread. ``stream_open`` is handed to ``PortAudioDeviceProvider`` (see there)."""
    if sys.platform.startswith("linux"):
        pulse = _pulse_provider()
        if pulse is not None:
            return pulse
    if stream_open is None:
        return PortAudioDeviceProvider()
    return PortAudioDeviceProvider(stream_open)


def _pulse_provider() -> DeviceProvider | None:
    try:
        from app.io.devices.pulse import PulseDeviceProvider
    except (ImportError, OSError) as exc:  # pulsectl missing, or libpulse.so.0 not installed
        log.info("PulseAudio client library unavailable (%s); listing devices with PortAudio", exc)
        return None
    provider = PulseDeviceProvider()
    try:
        provider.list_devices()
    except AudioError as exc:
        log.info("No PulseAudio/PipeWire server (%s); listing devices with PortAudio", exc)
        return None
    return provider
