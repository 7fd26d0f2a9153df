"""Composition root: parse arguments, build settings, create the qasync loop, wire io + ui, run.

With no mode flag the desktop window opens. ``--headless``, ``--list-devices`` and
``--check-mic`` run without a window (see ``app/headless.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from app import __version__
from app.core.config import EngineChoice, with_environment
from app.core.errors import LiveTranscriberError
from app.core.export import Format


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="live-transcriber",
                                description="Live speech-to-text on the desktop.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--headless", action="store_true", help="no window: print the transcript")
    p.add_argument("--device", metavar="ID",
                   help="input device id (see --list-devices); 'both': microphone + system "
                        "audio, labelled You and Others")
    p.add_argument("--file", type=Path, metavar="PATH",
                   help="with --headless: transcribe this audio or video file (any common "
                        "format) as fast as possible; in the cloud through AssemblyAI's "
                        "pre-recorded API")
    p.add_argument("--wav", type=Path, metavar="PATH",
                   help="with --headless: stream this file as if spoken, at real-time pace "
                        "(any format, like --file)")
    p.add_argument("--fast", action="store_true", help="with --wav: do not pace in real time")
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    p.add_argument("--json", action="store_true", help="with --list-devices: JSON output")
    p.add_argument("--check-mic", action="store_true", help="record a few seconds, report")
    p.add_argument("--seconds", type=float, default=5.0, help="with --check-mic: how long")
    p.add_argument("--save-wav", type=Path, help="with --check-mic: keep the recording")
    p.add_argument("--engine", choices=[choice.value for choice in EngineChoice],
                   help="speech engine (default: the one chosen in Settings, which is auto "
                   "unless changed). auto: the cloud with a key, going offline when the "
                   "cloud cannot be reached or keep up; offline without a key")
    p.add_argument("--recover", action="store_true",
                   help="print the newest recording that did not end cleanly (after a crash)")
    p.add_argument("--format", choices=[f.value for f in Format], default="txt",
                   help="with --recover: the output format")
    p.add_argument("--out", type=Path, help="with --recover: write to this file, not stdout")
    p.add_argument("--self-test", action="store_true",
                   help="check this installation (Qt, window, audio, keyring) and exit")
    return p


async def _run_window(app: object, engine: EngineChoice | None) -> int:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtGui import QGuiApplication

    from app.core.policy import env_key
    from app.core.transcript import TranscriptModel
    from app.ui.app_window import open_window
    from app.wiring import services

    folder = Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation)) / "transcripts"
    built = await asyncio.to_thread(services, folder, env_key(os.environ))
    assert isinstance(app, QGuiApplication)
    return await open_window(app, TranscriptModel(), built, os.environ, engine)


def _window(argv: list[str], engine: EngineChoice | None) -> int:
    # qasync honours QT_API and otherwise tries PyQt5 first; some desktops export QT_API=pyqt5.
    os.environ["QT_API"] = "pyside6"
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication(argv)
    app.setApplicationName("live-transcriber")
    app.setApplicationDisplayName("Live Transcriber")
    app.setDesktopFileName("live-transcriber")
    app.setQuitOnLastWindowClosed(False)  # quitting waits for the recording to end cleanly
    return int(qasync.run(_run_window(app, engine)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else [sys.argv[0], *argv]
    args = _parser().parse_args(argv[1:])
    from app import headless
    from app.ui.preferences import default_settings

    try:
        if args.self_test:
            from app.selftest import run_self_test

            return run_self_test()
        if args.recover:
            from app.recovery_cli import recover
            from app.wiring import data_folder

            return recover(data_folder() / "transcripts", Format(args.format), args.out)
        if args.list_devices:
            return headless.list_devices(args.json)
        if args.check_mic:
            return asyncio.run(headless.check_mic(args.device, args.seconds, args.save_wav))
        engine = EngineChoice(args.engine) if args.engine else None
        if args.headless:
            settings = with_environment(default_settings(), os.environ)
            if engine is not None:
                settings = replace(settings, engine=engine)
            return asyncio.run(headless.run_headless(
                settings, args.device, args.file or args.wav,
                realtime=args.file is None and not args.fast, whole_file=args.file is not None))
        return _window(argv, engine)
    except LiveTranscriberError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
