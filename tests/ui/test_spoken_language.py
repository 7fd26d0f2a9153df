"""Settings → Offline engine: the spoken language and "Translate to English", enabled only for
a multilingual model, kept in the settings file and handed to the offline engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.core.config import BUNDLED_OFFLINE_MODEL, Settings
from app.core.transcript import TranscriptModel
from app.io.offline.catalog import ModelCatalog
from app.io.offline.store import OfflineModels, decode_options
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.ui.settings_dialog import SettingsDialog
from app.wiring import services
from tests.support.model_hub import fake_files, manifest
from tests.ui.conftest import QtLoop

MULTILINGUAL = "fake"


def two_models() -> dict[str, Any]:
    english = manifest(fake_files())["models"][0]
    return {"models": [english, {**english, "name": MULTILINGUAL, "multilingual": True}]}


@pytest.fixture
def store(tmp_path: Path) -> OfflineModels:
    folder = tmp_path / "models"
    for name in ("fake.en", MULTILINGUAL):  # both installed: every file at its size
        (folder / name).mkdir(parents=True)
        for file, data in fake_files().items():
            (folder / name / file).write_bytes(data)
    return OfflineModels(ModelCatalog.from_manifest(two_models()), folder)


def preferences(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qapp: QApplication, store: OfflineModels, tmp_path: Path) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=None)
    built.secret_store = SessionOnlyStore()
    built.offline = store
    return build_window(TranscriptModel(), built, {}, preferences(tmp_path))


def pick(dialog: SettingsDialog, name: str) -> None:
    dialog.model_picker.setCurrentIndex(dialog.model_picker.findData(name))


def test_language_choices_apply_to_multilingual_models_only(qt_loop: QtLoop,
                                                            window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    assert dialog.model_picker.currentData() == BUNDLED_OFFLINE_MODEL
    assert dialog.language_picker.currentData() == "en"  # the default: English
    assert not dialog.language_picker.isEnabled() and not dialog.translate_check.isEnabled()
    assert "English only" in dialog.language_note.text()
    assert "multilingual model" in dialog.language_note.text()

    pick(dialog, MULTILINGUAL)
    assert dialog.language_picker.isEnabled() and dialog.translate_check.isEnabled()
    assert dialog.language_note.text() == ""
    pick(dialog, "fake.en")
    assert not dialog.language_picker.isEnabled()
    assert dialog.language_note.text().startswith("fake.en hears English only")


def test_the_choice_is_saved_and_reaches_the_engine(qt_loop: QtLoop, window: MainWindow,
                                                    store: OfflineModels,
                                                    tmp_path: Path) -> None:
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    pick(dialog, MULTILINGUAL)
    assert dialog.language_picker.itemText(0) == "Automatic (detect per turn)"
    dialog.language_picker.setCurrentIndex(0)
    dialog.translate_check.setChecked(True)
    dialog._accept()  # noqa: SLF001 - the OK button's handler
    chosen = dialog.result_settings
    assert chosen is not None
    assert (chosen.offline_model, chosen.spoken_language, chosen.translate_to_english) == (
        MULTILINGUAL, None, True)

    preferences(tmp_path).save(chosen)
    loaded = preferences(tmp_path).load()
    assert (loaded.spoken_language, loaded.translate_to_english) == (None, True)
    options = decode_options(loaded)
    assert (options.language, options.task) == (None, "translate")
    assert store.loader_for(MULTILINGUAL).spec.multilingual


def test_a_chosen_language_round_trips_and_a_damaged_one_reads_as_english(
        qapp: QApplication, tmp_path: Path) -> None:
    prefs = preferences(tmp_path)
    prefs.save(Settings(spoken_language="fr"))
    assert prefs.load().spoken_language == "fr"
    assert not prefs.load().translate_to_english
    hand_edited = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    hand_edited.setValue("offline/language", "klingon")
    hand_edited.sync()
    assert preferences(tmp_path).load().spoken_language == "en"


def test_a_new_settings_file_means_english_without_translation(qapp: QApplication,
                                                              tmp_path: Path) -> None:
    loaded = preferences(tmp_path).load()
    assert (loaded.spoken_language, loaded.translate_to_english) == ("en", False)
    options = decode_options(loaded)
    assert (options.language, options.task) == ("en", "transcribe")
