"""Keep PortAudio's start-up probing off the terminal, without hiding anything that matters.

Initialising PortAudio on Linux probes every ALSA device and the JACK server. With no sound card
(a sound server only) or no JACK, each probe prints to stderr: ~80 lines like ``ALSA lib
confmisc.c:855:(parse_card) cannot find card '0'`` and ``jack server is not running or cannot be
started`` for one ``PyAudio()`` and one stream. None of it is an error of ours: PortAudio skips
what it cannot open, and what the app needs and cannot get still comes back as an exception.

So, once per process and before the first ``PyAudio()``:

* libasound's error handler (``snd_lib_error_set_handler``) and libjack's error and info
  functions are replaced with callbacks that log each message at DEBUG (``logging`` shows them
  on request: nothing is thrown away);
* ``JACK_NO_START_SERVER`` is set, so no JACK client in the process (e.g. ALSA's jack plugin)
  tries to launch a JACK server as a side effect of listing devices.

Where libasound or libjack is missing (Windows, macOS, a Linux without them) that part is
skipped: there is nothing to silence.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import threading
from typing import Any, Final

import pyaudio

log = logging.getLogger(__name__)

_ALSA_LIBRARY: Final = "libasound.so.2"
_JACK_LIBRARY: Final = "libjack.so.0"

# void (*snd_lib_error_handler_t)(const char *file, int line, const char *function, int err,
#                                 const char *fmt, ...)
# ctypes cannot read the variadic part; the format string says what went wrong well enough.
_AlsaErrorHandler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                     ctypes.c_int, ctypes.c_char_p)
_ALSA_DEFAULT_HANDLER = ctypes.cast(0, _AlsaErrorHandler)  # NULL: libasound's own (stderr)
# void (*)(const char *message), for jack_set_error_function and jack_set_info_function.
_JackMessageFunction = ctypes.CFUNCTYPE(None, ctypes.c_char_p)

_lock = threading.Lock()
_installed = False
# The C libraries keep raw pointers to these callbacks: they must live as long as the process.
# A ctypes callback object that is garbage-collected while C still calls it crashes the process.
_keep_alive: list[Any] = []


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", errors="replace")


def _on_alsa_error(file: bytes | None, line: int, function: bytes | None, err: int,
                   fmt: bytes | None) -> None:
    log.debug("ALSA %s:%d (%s) %s [err %d]", _text(file), line, _text(function), _text(fmt),
              err)


def _on_jack_message(message: bytes | None) -> None:
    log.debug("JACK %s", _text(message))


def _load(name: str) -> Any:
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None  # not on this system: nothing of it to silence


def _route_alsa_errors() -> bool:
    alsa = _load(_ALSA_LIBRARY)
    if alsa is None:
        return False
    handler = _AlsaErrorHandler(_on_alsa_error)
    alsa.snd_lib_error_set_handler.argtypes = [_AlsaErrorHandler]
    alsa.snd_lib_error_set_handler.restype = ctypes.c_int
    _keep_alive.extend((alsa, handler))
    alsa.snd_lib_error_set_handler(handler)
    # Back to libasound's own handler before the interpreter goes: a Python callback called
    # during finalisation (a library destructor reporting something) would abort the process.
    atexit.register(alsa.snd_lib_error_set_handler, _ALSA_DEFAULT_HANDLER)
    return True


def _route_jack_messages() -> bool:
    jack = _load(_JACK_LIBRARY)
    if jack is None:
        return False
    function = _JackMessageFunction(_on_jack_message)
    for setter in (jack.jack_set_error_function, jack.jack_set_info_function):
        setter.argtypes = [_JackMessageFunction]
        setter.restype = None
    _keep_alive.extend((jack, function))
    jack.jack_set_error_function(function)
    jack.jack_set_info_function(function)
    return True


def quiet_portaudio() -> None:
    """Route ALSA's and JACK's diagnostics to logging and keep JACK from starting a server.
    Idempotent and thread-safe; call it before creating a ``pyaudio.PyAudio``."""
    global _installed
    with _lock:
        if _installed:
            return
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        alsa = _route_alsa_errors()
        jack = _route_jack_messages()
        _installed = True
    log.debug("PortAudio probing diagnostics go to this log (ALSA: %s, JACK: %s)",
              "yes" if alsa else "not present", "yes" if jack else "not present")


def new_portaudio() -> Any:
    """A new ``pyaudio.PyAudio`` (``Pa_Initialize``), with the probing noise routed to logging.
    The caller holds ``PORTAUDIO_LIFETIME_LOCK`` and calls ``terminate()`` when done."""
    quiet_portaudio()
    return pyaudio.PyAudio()
