"""Choosing and downloading a larger offline model in Settings, against a local model server
(127.0.0.1 only; the real catalog's addresses are never contacted by tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.core.config import BUNDLED_OFFLINE_MODEL, EngineChoice, Settings
from app.core.transcript import TranscriptModel
from app.io.offline.catalog import ModelCatalog
from app.io.offline.store import OfflineModels
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.ui.settings_dialog import SettingsDialog
from app.wiring import services
from tests.support.model_hub import FakeHub, fake_files, hub, manifest
from tests.ui.conftest import QtLoop, signal_until

FAKE = "fake.en"


__all__ = ["hub"]  # the fixture, used by name


@pytest.fixture
def store(hub: FakeHub, tmp_path: Path) -> OfflineModels:
    catalog = ModelCatalog.from_manifest(manifest(fake_files()), base_url=hub.url)
    return OfflineModels(catalog, tmp_path / "models")


@pytest.fixture
def window(qapp: QApplication, store: OfflineModels, tmp_path: Path) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=None)
    built.secret_store = SessionOnlyStore()
    built.offline = store
    prefs = Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    return build_window(TranscriptModel(), built, {}, prefs)


def accepted(dialog: SettingsDialog) -> Settings | None:
    return dialog.result_settings  # a call: mypy must not narrow it between two reads


def names(dialog: SettingsDialog) -> list[str]:
    return [dialog.model_picker.itemText(i) for i in range(dialog.model_picker.count())]


def test_download_then_choose_a_larger_model(qt_loop: QtLoop, window: MainWindow,
                                             store: OfflineModels, tmp_path: Path) -> None:
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    assert names(dialog) == [f"{BUNDLED_OFFLINE_MODEL} (bundled)", f"{FAKE} (0 MB download)"]
    dialog.model_picker.setCurrentIndex(1)
    assert not dialog.download_button.isHidden()
    dialog._accept()  # noqa: SLF001 - OK before downloading is refused plainly
    assert accepted(dialog) is None
    assert "not downloaded yet" in dialog.settings_error.text()

    seen: list[int] = []
    dialog.download_progress.valueChanged.connect(seen.append)
    assert qt_loop.run(dialog.download_selected())
    assert seen and seen[-1] == 1000
    assert names(dialog)[1] == f"{FAKE} (downloaded)"
    assert dialog.download_button.isHidden() and dialog.download_progress.isHidden()
    assert dialog.model_picker.currentData() == FAKE
    dialog._accept()  # noqa: SLF001
    settings = accepted(dialog)
    assert settings is not None and settings.offline_model == FAKE
    # The engine for those settings loads the downloaded folder, not the bundled model.
    assert store.loader_for(FAKE) is not store.loader_for(BUNDLED_OFFLINE_MODEL)
    assert (tmp_path / "models" / FAKE / "model.bin").is_file()


def test_cancel_keeps_nothing(qt_loop: QtLoop, window: MainWindow, hub: FakeHub,
                              tmp_path: Path) -> None:
    hub.hold = "model.bin"  # the server pauses after the first block of the big file
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    dialog.model_picker.setCurrentIndex(1)

    async def scenario() -> bool:
        download = asyncio.ensure_future(dialog.download_selected())
        # The download is under way: the server has sent part of the big file and waits.
        assert await asyncio.to_thread(hub.holding.wait, 10)
        assert dialog.cancel_download_button.isVisibleTo(dialog)
        assert dialog.download_progress.isVisibleTo(dialog)
        dialog.cancel_download_button.click()
        hub.release.set()
        return await download

    assert qt_loop.run(scenario()) is False
    assert "cancelled" in dialog.model_info.text()
    assert names(dialog)[1] == f"{FAKE} (0 MB download)"
    assert not (tmp_path / "models" / FAKE).exists()
    assert not dialog.download_button.isHidden() and dialog.download_button.isEnabled()


def test_closing_settings_mid_download_cancels_it_and_touches_no_deleted_widget(
    qt_loop: QtLoop, window: MainWindow, hub: FakeHub, tmp_path: Path,
) -> None:
    """The controller owns the download: the dialog can be closed (and destroyed) while it
    runs; closing cancels it, as the dialog says, and nothing is kept."""
    hub.hold = "model.bin"
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    dialog.model_picker.setCurrentIndex(1)
    downloads = window.controller.downloads

    async def scenario() -> tuple[str, bool, str]:
        window.controller.spawn(dialog.download_selected())
        assert await asyncio.to_thread(hub.holding.wait, 10)
        assert downloads.active == FAKE
        assert "closing Settings cancels it" in dialog.model_info.text()
        dialog.reject()
        dialog.deleteLater()
        hub.release.set()
        return await signal_until(downloads.finished)

    name, installed, message = qt_loop.run(scenario())
    assert (name, installed) == (FAKE, False) and "cancelled" in message
    assert downloads.active is None
    assert not (tmp_path / "models" / FAKE).exists()


def test_a_missing_chosen_model_falls_back_to_the_bundled_one(store: OfflineModels) -> None:
    assert store.loader_for(FAKE) is store.loader_for(BUNDLED_OFFLINE_MODEL)
    assert store.loader_for("no-such-model") is store.loader_for(BUNDLED_OFFLINE_MODEL)


def test_a_damaged_model_is_reported_before_the_first_recording(
    qt_loop: QtLoop, window: MainWindow, store: OfflineModels, tmp_path: Path,
) -> None:
    dialog = SettingsDialog(window.controller, window)
    qt_loop.run(dialog.load_models())
    dialog.model_picker.setCurrentIndex(1)
    assert qt_loop.run(dialog.download_selected())
    weights = tmp_path / "models" / FAKE / "model.bin"
    damaged = bytearray(weights.read_bytes())
    damaged[100] ^= 0xFF  # same size, other content: only the digest can tell
    weights.write_bytes(bytes(damaged))
    dialog._accept()  # noqa: SLF001
    settings = accepted(dialog)
    assert settings is not None
    window.controller.apply_settings(settings)

    async def scenario() -> None:
        window.controller.set_engine(EngineChoice.OFFLINE)  # preloads the chosen model
        await signal_until(window.controller.error_changed, lambda text: "model.bin" in text)
        await window.controller.shutdown()

    qt_loop.run(scenario())
    assert "model.bin" in window.message_bar.text("error")
