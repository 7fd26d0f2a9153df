"""Regenerate the README screenshot: the real window mid-sentence, grabbed to a PNG.

Usage (from anywhere)::

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png]

Everything it needs is private and goes away when it ends: an Xvfb screen (1280x800x24) when
``DISPLAY`` is not set, a PulseAudio sound server with one virtual microphone (so the device
picker shows a real device), and the local AssemblyAI emulator with a scripted recogniser. The
window is the app's own (``build_window``, as tests/ui/test_window_flow.py builds it) with an
environment key and settings in a temporary folder; audio comes from a WAV fixture played in
real time. It presses Start, waits on the controller's signals until finished paragraphs and a
grey partial line are on screen, grabs the window at 900x560 and, beside it, the caption strip
(``<name>-captions.png``), then stops and shuts down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "screenshot.png"
AUDIO = ROOT / "tests" / "fixtures" / "weather.wav"  # 3.7 s, played in real time
KEY = "screenshot-key-0123456789"
SIZE = (900, 560)
# What the emulator "hears": four finished sentences, then one still being spoken when the
# picture is taken. At 50 ms of audio per word the fifth sentence is eight words in after
# ~2.7 s of the 3.7 s file.
SCRIPT = (
    "good morning, everyone, and thanks for joining the weekly planning call.",
    "first, a quick look at the numbers from last week.",
    "sign-ups grew by twelve percent, mostly thanks to the new onboarding flow.",
    "next, the weather for the outdoor session on Friday.",
    "the forecast says sunny with a light breeze from the west, so we go ahead as planned.",
)
CAPTION_SIZE = (900, 150)
MS_PER_WORD = 50
FINALS_SHOWN = 4
PARTIAL_WORDS_SHOWN = 8
TIMEOUT_S = 30.0


@contextmanager
def xvfb_if_needed() -> Iterator[None]:
    """A private X screen when there is none; Xvfb reports its display number once ready."""
    if os.environ.get("DISPLAY"):
        yield
        return
    if shutil.which("Xvfb") is None:
        raise SystemExit("screenshot: no DISPLAY and no Xvfb (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 10
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_fd, 64) if ready else b""
            if not chunk:
                raise SystemExit("screenshot: Xvfb did not start")
            number += chunk
        os.environ["DISPLAY"] = f":{number.decode().strip()}"
        yield
    finally:
        os.close(read_fd)
        os.environ.pop("DISPLAY", None)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def sound_server(folder: Path) -> Iterator[None]:
    """A private PulseAudio whose default source is a real (non-monitor) microphone named
    ``vspeaker``: a null sink's monitor remapped, as a USB microphone would appear."""
    from tests.support.pulse import PulseServer

    if shutil.which("pulseaudio") is None:
        yield  # the picker then says no microphone was found: still a valid picture
        return
    server = PulseServer(folder)
    with server.serving():
        sink = server.load_sink("vspeaker-out")
        server.pactl("load-module", "module-remap-source", f"master={sink.monitor}",
                     "source_name=vspeaker", "source_properties=device.description=vspeaker")
        server.set_default_source("vspeaker")
        yield


def captions_path(out: Path) -> Path:
    return out.with_name(out.stem + "-captions" + out.suffix)


def words_in(text: str) -> int:
    return len(text.split())


async def take(out: Path, workdir: Path, streaming_url: str) -> None:
    from PySide6.QtCore import QSettings

    from app.core.recording import RecorderState
    from app.core.transcript import TranscriptModel
    from app.io.secrets import SessionOnlyStore
    from app.ui.app_window import build_window
    from app.ui.preferences import Preferences
    from app.wiring import recorder_factory, services, wav_file

    built = await asyncio.to_thread(services, workdir / "transcripts", KEY)
    built = replace(built, secret_store=SessionOnlyStore(),
                    make_recorder=recorder_factory(None),  # no temp path in the status bar
                    make_source=lambda device: wav_file(AUDIO, realtime=True))
    preferences = Preferences(QSettings(str(workdir / "settings.ini"),
                                        QSettings.Format.IniFormat))
    window = build_window(TranscriptModel(), built,
                          {"LIVE_TRANSCRIBER_STREAMING_URL": streaming_url}, preferences)
    controller = window.controller
    window.resize(*SIZE)
    window.show()
    await controller.initialize()

    model = controller.model
    on_screen = asyncio.Event()

    def check(*_: Any) -> None:
        partial = model.partial
        if (len(model.finals) >= FINALS_SHOWN and partial is not None
                and words_in(partial.text) >= PARTIAL_WORDS_SHOWN):
            on_screen.set()

    controller.transcript_changed.connect(check)
    window.record_button.click()
    async with asyncio.timeout(TIMEOUT_S):
        await on_screen.wait()
    controller.transcript_changed.disconnect(check)

    out.parent.mkdir(parents=True, exist_ok=True)
    image = window.grab()
    if (image.width(), image.height()) != SIZE:
        raise SystemExit(f"screenshot: the window is {image.width()}x{image.height()}, "
                         f"not {SIZE[0]}x{SIZE[1]}")
    if not image.save(str(out)):
        raise SystemExit(f"screenshot: could not write {out}")
    window.actions_by_name["captions"].trigger()  # the caption strip, over the same words
    strip = window.caption_overlay
    assert strip is not None
    strip.setGeometry(0, 0, *CAPTION_SIZE)
    strip.refresh()
    captions = captions_path(out)
    if not strip.grab().save(str(captions)):
        raise SystemExit(f"screenshot: could not write {captions}")
    window.actions_by_name["captions"].trigger()

    idle = asyncio.Event()

    def stopped(state: RecorderState) -> None:
        if state is RecorderState.IDLE:
            idle.set()

    controller.state_changed.connect(stopped)
    window.record_button.click()  # Stop: the last words arrive before the session ends
    async with asyncio.timeout(TIMEOUT_S):
        await idle.wait()
    await controller.shutdown()
    window.allow_close()
    window.close()


def run(out: Path) -> None:
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.pop("ASSEMBLYAI_API_KEY", None)
    from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer

    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=MS_PER_WORD))
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lt-shot-")))
        os.environ["XDG_CONFIG_HOME"] = str(workdir / "config")
        os.environ["XDG_DATA_HOME"] = str(workdir / "data")
        (workdir / "pulse").mkdir()
        stack.enter_context(xvfb_if_needed())
        stack.enter_context(sound_server(workdir / "pulse"))
        # Its own thread and plain asyncio loop, started before Qt's loop exists.
        emulator = stack.enter_context(EmulatorThread(config))

        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        app.setApplicationName("live-transcriber")
        app.setApplicationDisplayName("Live Transcriber")
        loop = qasync.QEventLoop(app)
        try:
            loop.run_until_complete(take(out, workdir, emulator.url))
        finally:
            loop.close()
        emulator.wait_sessions_closed(1, timeout=10)
        app.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the README screenshot.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"where to write the PNG (default: {DEFAULT_OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # app/ and tests/ (the emulator, the sound server)
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    run(out.resolve())
    print(f"screenshot: wrote {out} and {captions_path(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
