"""Open the main window, run until the person closes it, then shut down cleanly.

Quitting while recording stops capture, terminates the session (the last words still arrive),
closes the autosave and only then lets the window go. Under qasync, ``aboutToQuit`` fires after
the loop has stopped, so the close is intercepted instead (see shared/CI-RECIPES.md).

The signals that ask a program to end (SIGTERM at log-out or from ``kill``, SIGINT from Ctrl+C
in the terminal it was started from, SIGHUP when that terminal closes) quit the same way as the
window's close button, instead of ending the process mid-sentence.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QIcon

from app.core.config import EngineChoice, with_environment
from app.core.transcript import TranscriptModel
from app.ui.controller import AppController
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences, settings_store
from app.ui.services import Services
from app.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

# The signals that ask a program to end; each closes the window as its close button would.
QUIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def resources_folder() -> Path:
    """``resources/`` beside the source tree, or inside a PyInstaller bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


ICON = resources_folder() / "live-transcriber.svg"


def build_window(model: TranscriptModel, services: Services, env: Mapping[str, str],
                 preferences: Preferences | None = None,
                 engine: EngineChoice | None = None) -> MainWindow:
    """The wired window. ``engine`` overrides the saved engine choice for this run only."""
    preferences = preferences or Preferences(settings_store())
    settings = with_environment(preferences.load(), env)
    if engine is not None:
        settings = replace(settings, engine=engine)
    controller = AppController(model, services, settings)
    window = MainWindow(controller, preferences, QIcon(str(ICON)) if ICON.exists() else None)

    def open_settings() -> None:
        dialog = SettingsDialog(controller, window)
        dialog.setModal(True)

        def done(result: int) -> None:
            if result and dialog.result_settings is not None:
                controller.apply_settings(dialog.result_settings)
                preferences.save(controller.settings)
            dialog.deleteLater()
        dialog.finished.connect(done)
        dialog.open()
        controller.spawn(dialog.load_models())

    window.settings_requested.connect(open_settings)
    return window


async def run_window(window: MainWindow) -> None:
    """Show ``window``; return once it was asked to close and everything has shut down."""
    closing = asyncio.Event()
    window.close_requested.connect(closing.set)
    loop = asyncio.get_running_loop()

    def asked_to_end(signum: signal.Signals) -> None:
        log.info("%s received: closing the window", signum.name)
        closing.set()

    for signum in QUIT_SIGNALS:
        loop.add_signal_handler(signum, asked_to_end, signum)
    try:
        window.show()
        await window.controller.initialize()
        window.controller.spawn(window.recovery.check())  # the disk is read off the UI thread
        await closing.wait()
        await window.controller.shutdown()
    finally:
        for signum in QUIT_SIGNALS:
            loop.remove_signal_handler(signum)
    window.allow_close()
    window.close()


async def open_window(app: QGuiApplication, model: TranscriptModel, services: Services,
                      env: Mapping[str, str], engine: EngineChoice | None = None) -> int:
    window = build_window(model, services, env, engine=engine)
    await run_window(window)
    app.processEvents()
    return 0
