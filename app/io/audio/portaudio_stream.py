"""Opening and closing a PortAudio input stream for an :class:`InputDevice`.

Every function here blocks (PortAudio probes ALSA, libpulse connects to the sound server): call
them from a worker thread, never from the event loop.

Routing on Linux: Debian's PortAudio sees the sound server only as ALSA's ``pulse`` and
``default`` devices, never its individual sources (shared/CI-RECIPES.md). A chosen PulseAudio
source is recorded by opening ``pulse`` with ``PULSE_SOURCE`` naming it: libpulse reads the
variable when the ALSA plugin creates its context, i.e. inside ``Pa_OpenStream``. The variable is
set only for that call and restored at once, under a process-wide lock so two opens cannot see
each other's value. The system's default source is never touched.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyaudio

from app.core.audio import SAMPLE_RATE, WAKE_MS
from app.core.devices import InputDevice
from app.core.errors import AudioError
from app.core.signal import frames_per_buffer
from app.io.audio.portaudio_quiet import new_portaudio

log = logging.getLogger(__name__)

PULSE_HOST_API = "PulseAudio"
_PULSE_ALSA_DEVICE = "pulse"
_MAX_NATIVE_CHANNELS = 2  # more than stereo only costs bandwidth: the pump downmixes anyway

# PyAudio's callback signature: (in_data, frame_count, time_info, status_flags).
StreamCallback = Callable[[bytes, int, Mapping[str, float], int], tuple[None, int]]
CallbackFactory = Callable[[int, int], StreamCallback]

_pulse_source_lock = threading.Lock()
# Pa_Initialize/Pa_Terminate (PyAudio() and terminate()) keep process-wide state and are not
# thread-safe; anything else in the process creating PyAudio instances should take this too.
PORTAUDIO_LIFETIME_LOCK = threading.Lock()

_REMEDY_OTHER = "Close other programs that use it, or choose another microphone in Settings."
_REMEDY_CONNECT = "Connect it, or choose another microphone in Settings."


def subject(device: InputDevice | None) -> str:
    """How error sentences name the device."""
    return "The default microphone" if device is None else f'The microphone "{device.name}"'


def not_connected(device: InputDevice | None) -> AudioError:
    return AudioError(f"{subject(device)} is not connected.", remedy=_REMEDY_CONNECT)


@dataclass
class OpenedStream:
    """A running PortAudio stream and the PyAudio instance that owns it."""

    audio: Any  # pyaudio.PyAudio
    stream: Any  # pyaudio.PyAudio.Stream
    rate: int
    channels: int


@contextmanager
def _pulse_source(device: InputDevice | None) -> Iterator[None]:
    if device is None or device.host_api != PULSE_HOST_API:
        yield
        return
    with _pulse_source_lock:
        previous = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = device.id
        try:
            yield
        finally:
            if previous is None:
                del os.environ["PULSE_SOURCE"]
            else:
                os.environ["PULSE_SOURCE"] = previous


def _native_format(info: Mapping[str, Any]) -> tuple[int, int]:
    channels = min(int(info["maxInputChannels"]), _MAX_NATIVE_CHANNELS)
    return round(float(info["defaultSampleRate"])), channels


def _resolve(audio: Any, device: InputDevice | None) -> tuple[int, int, int]:
    """PortAudio index, native rate and native channel count for ``device``."""
    if device is None:
        try:
            info = audio.get_default_input_device_info()
        except OSError:
            raise AudioError("No microphone was found.", remedy=_REMEDY_CONNECT) from None
        return (int(info["index"]), *_native_format(info))
    if device.host_api == PULSE_HOST_API:
        host_api, name = "ALSA", _PULSE_ALSA_DEVICE
    else:
        host_api, _, name = device.id.partition(":")
    for index in range(int(audio.get_device_count())):
        info = audio.get_device_info_by_index(index)
        api = str(audio.get_host_api_info_by_index(int(info["hostApi"]))["name"])
        if api == host_api and str(info["name"]) == name and int(info["maxInputChannels"]) > 0:
            if device.host_api == PULSE_HOST_API:
                # The ALSA plugin accepts anything; the source's own format is what is native.
                channels = min(max(device.channels, 1), _MAX_NATIVE_CHANNELS)
                return index, device.default_rate, channels
            return (index, *_native_format(info))
    if device.host_api == PULSE_HOST_API:
        raise AudioError(
            "The audio system cannot reach the sound server (ALSA's pulse plugin is missing).",
            remedy="Install the ALSA PulseAudio plugin (libasound2-plugins on Debian/Ubuntu).",
        )
    raise not_connected(device)


def _choose_format(audio: Any, index: int, native: tuple[int, int], *,
                   prefer_wire_format: bool) -> tuple[int, int] | None:
    candidates = [(SAMPLE_RATE, 1)] if prefer_wire_format else []
    candidates += [native, (native[0], 1)]
    for rate, channels in dict.fromkeys(candidates):
        try:
            if audio.is_format_supported(rate, input_device=index, input_channels=channels,
                                         input_format=pyaudio.paInt16):
                return rate, channels
        except ValueError:  # PyAudio's way of saying "not supported"
            continue
    return None


def open_input_stream(device: InputDevice | None, callback_for: CallbackFactory, *,
                      prefer_wire_format: bool = True) -> OpenedStream:
    """Create a PyAudio instance, open ``device`` in callback mode and start it.

    ``callback_for(rate, channels)`` is called once the format is chosen and returns the
    callback. Raises :class:`AudioError`; on failure nothing is left open.
    """
    try:
        with PORTAUDIO_LIFETIME_LOCK:
            audio = new_portaudio()
    except OSError as exc:
        raise AudioError("The audio system could not be started.",
                         remedy="Check that a sound server or sound card is available.",
                         detail=str(exc)) from exc
    try:
        index, *native = _resolve(audio, device)
        chosen = _choose_format(audio, index, (native[0], native[1]),
                                prefer_wire_format=prefer_wire_format)
        if chosen is None:
            raise AudioError(f"{subject(device)} could not be opened (unsupported format).",
                             remedy=_REMEDY_OTHER)
        rate, channels = chosen
        callback = callback_for(rate, channels)
        with _pulse_source(device):
            stream = audio.open(format=pyaudio.paInt16, channels=channels, rate=rate,
                                input=True, input_device_index=index,
                                frames_per_buffer=frames_per_buffer(rate, WAKE_MS),
                                stream_callback=callback, start=False)
        try:
            stream.start_stream()
        except OSError:
            stream.close()
            raise
    except OSError as exc:
        _terminate(audio)
        raise AudioError(f"{subject(device)} could not be opened (busy or unsupported format).",
                         remedy=_REMEDY_OTHER, detail=str(exc)) from exc
    except BaseException:
        _terminate(audio)
        raise
    log.info("capture opened: %s at %d Hz x%d", device.id if device else "default", rate,
             channels)
    return OpenedStream(audio, stream, rate, channels)


def close_input_stream(opened: OpenedStream) -> None:
    """Stop and close the stream, then terminate its PyAudio instance. Never raises OSError:
    a device that vanished may refuse to stop, and closing must still release everything."""
    try:
        try:
            opened.stream.stop_stream()
        except OSError as exc:
            log.info("stopping the capture stream failed (device gone?): %s", exc)
        try:
            opened.stream.close()
        except OSError as exc:
            log.warning("closing the capture stream failed: %s", exc)
    finally:
        _terminate(opened.audio)


def _terminate(audio: Any) -> None:
    with PORTAUDIO_LIFETIME_LOCK:
        audio.terminate()


def is_stream_active(opened: OpenedStream) -> bool:
    try:
        return bool(opened.stream.is_active())
    except OSError:
        return False
