"""The menu bar (File, Edit, View, Help) and the Help menu's two dialogs.

Every command has a menu entry, so shortcuts can be found and everything is reachable from
the keyboard (F10 or Alt opens the menus). Preferences is Ctrl+, on every platform: Qt's
``StandardKey.Preferences`` is empty on Linux, so the sequence is given explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from app import __version__

# (menu, name, text, shortcut, checkable); None separates groups.
_LAYOUT: tuple[tuple[str, tuple[tuple[str, str, str, bool] | None, ...]], ...] = (
    ("&File", (
        ("open_file", "&Open audio or video file…", "Ctrl+O", False),
        ("history", "&History…", "Ctrl+H", False),
        None,
        ("save", "&Save", "Ctrl+S", False),
        ("save_as", "Save &As…", "Ctrl+Shift+S", False),
        None,
        ("record", "Start or stop &recording", "Ctrl+R", False),
        ("preferences", "&Preferences…", "Ctrl+,", False),
        None,
        ("quit", "&Quit", "Ctrl+Q", False),
    )),
    ("&Edit", (
        ("copy", "&Copy transcript", "Ctrl+Shift+C", False),
        ("find", "&Find…", "Ctrl+F", False),
        None,
        ("clear", "C&lear transcript", "", False),
    )),
    ("&View", (
        ("zoom_in", "Zoom &in", "Ctrl++", False),
        ("zoom_out", "Zoom &out", "Ctrl+-", False),
        ("zoom_reset", "&Actual size", "Ctrl+0", False),
        None,
        ("timestamps", "Paragraph &timestamps", "Ctrl+T", True),
        ("captions", "&Caption strip", "Ctrl+Shift+L", True),
    )),
    ("&Help", (
        ("shortcuts", "&Keyboard shortcuts", "F1", False),
        ("about", "&About Live Transcriber", "", False),
    )),
)


def build_menus(window: QMainWindow, handlers: Mapping[str, Callable[[], object]]
                ) -> dict[str, QAction]:
    """Fill ``window``'s menu bar; returns the actions by name (for enabling and checks)."""
    actions: dict[str, QAction] = {}
    bar = window.menuBar()
    bar.setObjectName("menuBar")
    for title, entries in _LAYOUT:
        menu = bar.addMenu(title)
        menu.setObjectName(title.replace("&", "").lower() + "Menu")
        for entry in entries:
            if entry is None:
                menu.addSeparator()
                continue
            name, text, keys, checkable = entry
            action = QAction(text, window)
            action.setObjectName(name + "Action")
            if keys:
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setCheckable(checkable)
            handler = handlers[name]
            if checkable:
                action.toggled.connect(lambda _on=False, h=handler: h())
            else:
                action.triggered.connect(lambda _checked=False, h=handler: h())
            menu.addAction(action)
            actions[name] = action
    # Ctrl+= too: on most keyboards "+" needs Shift, so Ctrl++ is really Ctrl+Shift+=.
    actions["zoom_in"].setShortcuts([QKeySequence("Ctrl++"), QKeySequence("Ctrl+=")])
    return actions


def shortcut_rows(actions: Mapping[str, QAction]) -> list[tuple[str, str]]:
    rows = [(a.text().replace("&", "").rstrip("…"),
             a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for a in actions.values() if not a.shortcut().isEmpty()]
    rows += [("Next / previous match in Find", "F3 / Shift+F3, Enter / Shift+Enter"),
             ("Close Find", "Escape"), ("Open the menus", "F10 or Alt")]
    return rows


def show_shortcuts(parent: QWidget, actions: Mapping[str, QAction]) -> None:
    rows = "".join(f"<tr><td>{what}</td><td><b>{keys}</b></td></tr>"
                   for what, keys in shortcut_rows(actions))
    box = QMessageBox(parent)
    box.setObjectName("shortcutsDialog")
    box.setWindowTitle("Keyboard shortcuts")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"<table cellspacing='6'>{rows}</table>")
    box.open()


def show_about(parent: QWidget, transcripts: Path, settings_file: str) -> None:
    box = QMessageBox(parent)
    box.setObjectName("aboutDialog")
    box.setWindowTitle("About Live Transcriber")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Live Transcriber {__version__}")
    box.setInformativeText(
        "Live speech-to-text with AssemblyAI's streaming service, or on this computer with "
        "Whisper tiny.en.\n\n"
        f"Transcripts are autosaved in: {transcripts}\n"
        f"Settings are kept in: {settings_file}\n"
        "The API key is kept in the system keyring, never in a file.\n\n"
        "Licences: Live Transcriber is MIT licensed. It uses Qt for Python (PySide6, LGPL-3.0), "
        "qasync (BSD), websockets (BSD), PyAudio (MIT) with PortAudio (MIT), keyring (MIT), "
        "faster-whisper (MIT) and the Whisper tiny.en model (MIT).")
    box.open()
