"""The caption strip: its window flags, its text following the pane, and what it remembers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication

from app.core.messages import Turn, Word
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.caption_overlay import tail_that_fits
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.wiring import services


def prefs_at(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def open_window(tmp_path: Path) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=None)
    built.secret_store = SessionOnlyStore()
    window = build_window(TranscriptModel(), built, {}, prefs_at(tmp_path))
    window.show()
    return window


def say(window: MainWindow, order: int, text: str, *, final: bool = True) -> None:
    words = tuple(Word(w, 200 * i, 200 * i + 150, 0.9, final) for i, w in enumerate(text.split()))
    change = window.controller.model.apply(
        Turn(order, False, final, text if final else "", 1.0, words))
    assert change is not None
    window.controller.on_transcript(change)


def test_the_strip_is_an_always_on_top_frameless_translucent_window(
    qapp: QApplication, tmp_path: Path,
) -> None:
    window = open_window(tmp_path)
    window.actions_by_name["captions"].trigger()
    strip = window.caption_overlay
    assert strip is not None and strip.isVisible() and strip.isWindow()
    assert strip.objectName() == "captionOverlay" and strip.accessibleName() == "Captions"
    flags = strip.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.FramelessWindowHint
    assert strip.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    # Large text: far above the pane's.
    assert strip.label.font().pointSize() >= 2 * window.transcript_view.font().pointSize()
    window.actions_by_name["captions"].trigger()
    assert not strip.isVisible() and window.caption_overlay is None


def test_the_strip_follows_the_pane_with_the_newest_words(
    qapp: QApplication, tmp_path: Path,
) -> None:
    window = open_window(tmp_path)
    window.actions_by_name["captions"].trigger()
    strip = window.caption_overlay
    assert strip is not None
    assert strip.shown_text == "No captions yet"
    say(window, 0, "good morning everyone")
    assert strip.shown_text == "good morning everyone"
    say(window, 1, "this is the", final=False)
    assert strip.shown_text == "good morning everyone this is the"
    assert "<i" in strip.label.text() and "this is the</i>" in strip.label.text()
    window.controller.clear_transcript()
    assert strip.shown_text == "No captions yet"


def test_closing_the_strip_unchecks_the_menu_and_everything_is_remembered(
    qapp: QApplication, tmp_path: Path,
) -> None:
    window = open_window(tmp_path)
    window.actions_by_name["captions"].trigger()
    strip = window.caption_overlay
    assert strip is not None
    strip.set_opacity(0.5)
    strip.set_point_size(40)
    strip.setGeometry(120, 80, 700, 160)
    strip.close()  # from its own menu
    assert not window.actions_by_name["captions"].isChecked()
    assert window.caption_overlay is None
    prefs = prefs_at(tmp_path)
    assert prefs.caption_opacity() == 0.5 and prefs.caption_point_size() == 40
    assert not prefs.caption_shown()
    again = open_window(tmp_path)
    again.actions_by_name["captions"].trigger()
    restored = again.caption_overlay
    assert restored is not None
    assert restored.opacity == 0.5 and restored.label.font().pointSize() == 40
    assert restored.size().width() == 700


def test_only_the_last_two_lines_are_kept() -> None:
    metrics = QFontMetrics(QFont("monospace", 20))
    text = " ".join(f"word{i}" for i in range(60))
    width = metrics.horizontalAdvance("word00 " * 5)
    shown = tail_that_fits(text, metrics, width)
    assert shown.startswith("… ") and shown.endswith("word59")
    kept = shown.removeprefix("… ").split()
    assert 6 <= len(kept) <= 10  # about five words a line, two lines
    assert tail_that_fits("short text", metrics, width) == "short text"
