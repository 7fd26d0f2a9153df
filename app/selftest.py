"""``live-transcriber --self-test``: check an install in one command.

Every check prints one line — ``ok``, ``warn`` or ``FAIL``, its name, what it found — and the
exit status is 0 unless a check FAILed. A warning is something the machine lacks, not the
install (no microphone, no system keyring, no sound server); a failure is something the app
cannot work without (no Qt platform plugin, no window, a library missing from the bundle).

The checks use the real code paths: the real main window with the real services (keyring store,
device provider), built, shown and closed without ``controller.initialize()`` so nothing goes
to the network; device listing and the keyring probe as the app does them. Qt runs offscreen
when there is no display. Settings go to a temporary file, never to the person's own.

Part of the composition root, like ``app/wiring.py``: it names concrete io classes. It works
from the source tree and from the PyInstaller bundle (the ``install`` line says which).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TextIO

from app import __version__

Status = Literal["ok", "warn", "FAIL"]
APP_NAME: Final = "live-transcriber"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<9} {self.detail}"


Outcome = tuple[Status, str]


def run_self_test(stream: TextIO | None = None) -> int:
    """Run every check, print one line each to ``stream`` (default: standard output) and a
    summary; return 0 when nothing FAILed, else 1."""
    out = stream if stream is not None else sys.stdout
    results: list[CheckResult] = []
    for name, check in CHECKS:
        try:
            status, detail = check()
        except Exception as exc:  # a check that crashes is a failed check, reported as one
            status, detail = "FAIL", f"{type(exc).__name__}: {exc}"
        result = CheckResult(name, status, " ".join(detail.split()))
        results.append(result)
        print(result.line(), file=out, flush=True)
    failed = sum(r.status == "FAIL" for r in results)
    warned = sum(r.status == "warn" for r in results)
    verdict = "FAILED" if failed else "passed"
    print(f"self-test {verdict}: {len(results)} checks, {failed} failed, {warned} warnings",
          file=out, flush=True)
    return 1 if failed else 0


# --- the checks ----------------------------------------------------------------------------

def check_install() -> Outcome:
    bundle = getattr(sys, "_MEIPASS", None)
    where = f"bundle {Path(sys.executable).parent}" if bundle else (
        f"source {Path(__file__).resolve().parent}")
    return "ok", (f"live-transcriber {__version__}, Python {platform.python_version()} "
                  f"on {platform.system()} {platform.machine()}, from {where}")


def platform_plugins(env: Mapping[str, str], system: str) -> str | None:
    """The ``QT_QPA_PLATFORM`` to use, or None to leave Qt's choice alone.

    On Linux with no display the window is built offscreen. With a display, offscreen is the
    last fallback so that a window-system plugin that cannot load (typically xcb without
    libxcb-cursor0) is reported as a FAIL line instead of aborting the process.
    """
    if env.get("QT_QPA_PLATFORM") or not system.startswith("linux"):
        return None
    if env.get("WAYLAND_DISPLAY"):
        return "wayland;xcb;offscreen"
    if env.get("DISPLAY"):
        return "xcb;offscreen"
    return "offscreen"


def _has_display(env: Mapping[str, str]) -> bool:
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def check_qt() -> Outcome:
    import PySide6
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        choice = platform_plugins(os.environ, sys.platform)
        if choice is not None:
            os.environ["QT_QPA_PLATFORM"] = choice
        app = QApplication([sys.argv[0] if sys.argv and sys.argv[0] else APP_NAME])
        app.setApplicationName(APP_NAME)
        app.setApplicationDisplayName("Live Transcriber")
        app.setDesktopFileName(APP_NAME)
    assert isinstance(app, QApplication)
    name = app.platformName()
    detail = f"Qt {qVersion()} (PySide6 {PySide6.__version__}), platform plugin '{name}'"
    wanted = os.environ.get("QT_QPA_PLATFORM", "")
    if name == "offscreen" and _has_display(os.environ) and ";" in wanted:
        return "FAIL", (f"{detail}: no window-system plugin could start, so no window can "
                        "open (Qt's message above says why: the display is unreachable, or a "
                        "library is missing, e.g. libxcb-cursor0)")
    return "ok", detail


def check_resources() -> Outcome:
    from PySide6.QtGui import QColor, QIcon, QImageReader

    from app.ui.app_window import ICON

    if not ICON.exists():
        frozen = hasattr(sys, "_MEIPASS")
        checkout = (ICON.parent.parent / "pyproject.toml").exists()
        status: Status = "FAIL" if frozen or checkout else "warn"
        return status, f"app icon not found at {ICON} (the window has no icon)"
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        return "FAIL", "Qt cannot read SVG: the imageformats/libqsvg plugin is missing"
    image = QIcon(str(ICON)).pixmap(64, 64).toImage()
    if image.isNull() or QColor(image.pixel(32, 32)).alpha() == 0:
        return "FAIL", f"{ICON} does not render: the iconengines/libqsvgicon plugin is missing"
    entry = ICON.parent / f"{APP_NAME}.desktop"
    if not entry.exists():
        return "warn", f"icon {ICON} renders; desktop entry {entry.name} not found beside it"
    return "ok", f"icon {ICON} renders; desktop entry present"


def check_window() -> Outcome:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.core import policy
    from app.core.transcript import TranscriptModel
    from app.ui.app_window import build_window
    from app.ui.preferences import Preferences
    from app.wiring import services

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return "FAIL", "no Qt application (the qt check failed)"
    with tempfile.TemporaryDirectory(prefix="live-transcriber-self-test-") as tmp:
        store = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        env_key = policy.env_key(os.environ)
        started = time.perf_counter()
        window = build_window(TranscriptModel(), services(Path(tmp) / "transcripts", env_key),
                              os.environ, Preferences(store))
        window.show()
        app.processEvents()
        built_ms = (time.perf_counter() - started) * 1000
        shown, title, size = window.isVisible(), window.windowTitle(), window.size()
        painted = not window.grab().isNull()
        window.allow_close()
        window.close()
        app.processEvents()
        closed = not window.isVisible()
        window.deleteLater()
        app.processEvents()
        store.sync()
        del store
    if not (shown and painted):
        return "FAIL", f"the main window did not show (visible={shown}, painted={painted})"
    if not closed:
        return "FAIL", "the main window did not close"
    return "ok", (f"main window '{title}' built, shown ({size.width()}x{size.height()}) and "
                  f"closed in {built_ms:.0f} ms")


def check_audio_libraries() -> Outcome:
    import pyaudio

    from app.io.audio.resample import StreamResampler

    resampler = StreamResampler(48_000)
    samples = len(resampler.process(bytes(2 * 4800)) + resampler.flush()) // 2
    if abs(samples - 1600) > 2:
        return "FAIL", f"soxr resampled 4800 samples at 48 kHz to {samples} at 16 kHz, not 1600"
    return "ok", (f"{pyaudio.get_portaudio_version_text()}; numpy + soxr resample 48 kHz to "
                  "16 kHz")


def check_devices() -> Outcome:
    from app.core.errors import AudioError
    from app.io.devices.platform import default_provider
    from app.io.devices.portaudio import PortAudioDeviceProvider

    why = ""
    if sys.platform.startswith("linux"):
        try:
            importlib.import_module("app.io.devices.pulse")
        except ModuleNotFoundError as exc:
            return "FAIL", f"{exc.name} is missing from this install (PulseAudio device list)"
        except OSError as exc:
            why = f" (PulseAudio client library not loaded: {exc})"
    provider = default_provider()
    portaudio = isinstance(provider, PortAudioDeviceProvider)
    if portaudio and sys.platform.startswith("linux") and not why:
        why = " (no PulseAudio/PipeWire server answered)"
    source = f"PortAudio{why}" if portaudio else "the sound server (PulseAudio/PipeWire)"
    try:
        devices = provider.list_devices()
    except AudioError as exc:
        return "warn", f"could not list input devices from {source}: {exc}"
    if not devices:
        return "warn", f"no input device found, listed by {source}"
    default = next((d for d in devices if d.is_default), devices[0])
    status: Status = "warn" if why else "ok"
    return status, (f"{len(devices)} input device(s) listed by {source}; "
                    f"default: {default.name}")


def check_offline_engine() -> Outcome:
    # The offline engine is part of every build: a missing module or model is a failure.
    import numpy as np

    from app.io.offline.model import SAMPLE_RATE, WhisperModelLoader

    started = time.perf_counter()
    # Verifies the model files' digests, then loads CTranslate2 and the Silero VAD (ONNX).
    recogniser = WhisperModelLoader().load_blocking()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    recogniser.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))
    decoded = time.perf_counter() - started
    return "ok", (f"Whisper {recogniser.spec.name} verified and loaded in {loaded:.1f} s from "
                  f"{recogniser.folder}; decoding 1 s of audio took {decoded:.1f} s")


_NATIVE_KEYRING: Final = {
    "linux": ("keyring.backends.SecretService", "secretstorage", "jeepney"),
    "darwin": ("keyring.backends.macOS",),
    "win32": ("keyring.backends.Windows", "win32ctypes"),
}


def check_keyring() -> Outcome:
    from app.io.secrets import open_secret_store

    system = "linux" if sys.platform.startswith("linux") else sys.platform
    for module in _NATIVE_KEYRING.get(system, ()):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return "FAIL", f"the system keyring backend is missing from this install: {exc}"
    store = open_secret_store()
    if store.persistent:
        return "ok", f"API key storage: {store.description}"
    return "warn", f"API key storage: {store.description}"


CHECKS: Final[tuple[tuple[str, Callable[[], Outcome]], ...]] = (
    ("install", check_install),
    ("qt", check_qt),
    ("resources", check_resources),
    ("window", check_window),
    ("audio", check_audio_libraries),
    ("devices", check_devices),
    ("offline", check_offline_engine),
    ("keyring", check_keyring),
)
