"""ALSA's and JACK's diagnostics go to logging, not the terminal: driven through the real
libasound and libjack (the libraries PortAudio loads), with the C-level stderr captured."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import subprocess
import sys

import pytest

from app.io.audio import portaudio_quiet
from app.io.audio.portaudio_quiet import quiet_portaudio

LOGGER = portaudio_quiet.__name__
_JACK_NO_START_SERVER = 0x01


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == LOGGER and r.levelno == logging.DEBUG]


def test_alsa_errors_are_logged_not_printed(capfd: pytest.CaptureFixture[str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    quiet_portaudio()
    gc.collect()  # the C library holds only a raw pointer: the callback must survive this
    alsa = ctypes.CDLL("libasound.so.2")
    pcm = ctypes.c_void_p()
    result = alsa.snd_pcm_open(ctypes.byref(pcm), b"no_such_pcm_live_transcriber", 1, 0)
    assert result < 0  # the failure itself still reaches the caller
    assert "ALSA lib" not in capfd.readouterr().err
    assert any("snd_pcm_open_noupdate" in m and "Unknown PCM" in m for m in messages(caplog))


def test_jack_errors_are_logged_not_printed(capfd: pytest.CaptureFixture[str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    quiet_portaudio()
    gc.collect()
    jack = ctypes.CDLL("libjack.so.0")
    jack.jack_client_open.restype = ctypes.c_void_p
    status = ctypes.c_int(0)
    # No JACK server runs here: this fails and libjack reports why through its error function.
    client = jack.jack_client_open(b"live-transcriber-test", _JACK_NO_START_SERVER,
                                   ctypes.byref(status))
    assert client is None and status.value != 0
    err = capfd.readouterr().err
    assert "jack server is not running" not in err and "Cannot connect" not in err
    assert any("jack server is not running" in m for m in messages(caplog))


def test_jack_is_told_never_to_start_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JACK_NO_START_SERVER", raising=False)
    monkeypatch.setattr(portaudio_quiet, "_installed", False)
    quiet_portaudio()
    assert os.environ.get("JACK_NO_START_SERVER") == "1"


def test_a_missing_library_is_skipped_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows and macOS have neither library: routing is skipped there, without an error.
    monkeypatch.setattr(portaudio_quiet, "_ALSA_LIBRARY", "libasound-not-here.so.9")
    monkeypatch.setattr(portaudio_quiet, "_JACK_LIBRARY", "libjack-not-here.so.9")
    assert portaudio_quiet._route_alsa_errors() is False
    assert portaudio_quiet._route_jack_messages() is False


def test_libasound_gets_its_own_handler_back_before_the_interpreter_ends() -> None:
    # A Python callback left installed could be called during finalisation and abort the process.
    program = (
        "import atexit, ctypes\n"
        "from app.io.audio.portaudio_quiet import quiet_portaudio\n"
        "quiet_portaudio()\n"
        "alsa = ctypes.CDLL('libasound.so.2')\n"
        "def fail_to_open():\n"
        "    alsa.snd_pcm_open(ctypes.byref(ctypes.c_void_p()), b'no_such_pcm_lt', 1, 0)\n"
        "fail_to_open()\n"
        "print('--- exit handlers ---', file=__import__('sys').stderr, flush=True)\n"
        "atexit._run_exitfuncs()\n"
        "fail_to_open()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, check=True)
    routed, restored = done.stderr.split("--- exit handlers ---")
    assert "ALSA lib" not in routed
    assert "Unknown PCM no_such_pcm_lt" in restored
