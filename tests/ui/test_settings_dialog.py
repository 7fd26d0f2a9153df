"""The settings dialog: a key is validated against the service before it is stored, a rejected
key is never stored, and options round-trip through QSettings (never the key)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QLineEdit

from app.core.auth import AuthState
from app.core.config import Region
from app.core.ports import KeyStatus, SecretStore
from app.core.transcript import TranscriptModel
from app.io.secrets import ACCOUNT, SERVICE, SessionOnlyStore, open_secret_store
from app.ui.app_window import build_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.ui.settings_dialog import SettingsDialog
from app.wiring import services
from tests.emulator import EmulatorConfig, EmulatorThread
from tests.ui.conftest import QtLoop

KEY = "dialog-test-key-abcdef"


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(api_keys=frozenset({KEY}))) as emu:
        yield emu


@pytest.fixture
def secret_store(request: pytest.FixtureRequest) -> Iterator[SecretStore]:
    """The in-memory store, or with ``indirect`` parameter "keyring" the real OS keyring (a
    Secret Service in a private D-Bus session), emptied before and after the test."""
    if getattr(request, "param", "session") == "session":
        yield SessionOnlyStore()
        return
    request.getfixturevalue("secret_service")
    store = open_secret_store()
    assert store.persistent, "the Secret Service fixture must give a real keyring"
    store.delete()
    yield store
    store.delete()


def stored_in_os_keyring() -> str:
    """What another process reads from the OS keyring (empty when nothing is stored)."""
    done = subprocess.run(["secret-tool", "lookup", "service", SERVICE, "username", ACCOUNT],
                          capture_output=True, text=True, timeout=10, check=False)
    return done.stdout


@pytest.fixture
def window(qapp: QApplication, emulator: EmulatorThread, tmp_path: Path,
           secret_store: SecretStore) -> MainWindow:
    built = services(tmp_path / "autosave", env_key=None)
    built.secret_store = secret_store
    prefs = Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    return build_window(TranscriptModel(), built,
                        {"LIVE_TRANSCRIBER_STREAMING_URL": emulator.url}, prefs)


def auth_state(window: MainWindow) -> AuthState:
    return window.controller.auth_status.state  # a call: mypy must not narrow between reads


def test_key_field_is_masked_and_can_be_shown(window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Password
    dialog.show_key.click()
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Normal
    assert dialog.show_key.text() == "Hide"
    dialog.show_key.click()
    assert dialog.key_edit.echoMode() is QLineEdit.EchoMode.Password


STORES = pytest.mark.parametrize("secret_store", ["session", "keyring"], indirect=True)


@STORES
def test_a_rejected_key_is_never_stored(qt_loop: QtLoop, window: MainWindow,
                                        secret_store: SecretStore) -> None:
    dialog = SettingsDialog(window.controller, window)
    dialog.key_edit.setText("  not-a-valid-key  ")
    check = qt_loop.run(dialog.validate_and_save())
    assert check is not None and check.status is KeyStatus.REJECTED
    assert secret_store.load() is None
    if secret_store.persistent:
        assert stored_in_os_keyring() == ""
    assert not window.controller.has_key
    assert "Not saved" in dialog.key_status.text()
    assert "Settings" not in dialog.key_status.text()  # the person is in Settings already
    assert auth_state(window) is AuthState.REJECTED
    assert not dialog.delete_button.isEnabled()


@STORES
def test_a_valid_key_is_stored_and_the_field_cleared(qt_loop: QtLoop, window: MainWindow,
                                                     tmp_path: Path,
                                                     secret_store: SecretStore) -> None:
    dialog = SettingsDialog(window.controller, window)
    dialog.key_edit.setText(KEY)
    check = qt_loop.run(dialog.validate_and_save())
    assert check is not None and check.status is KeyStatus.VALID
    assert secret_store.load() == KEY
    if secret_store.persistent:
        assert stored_in_os_keyring() == KEY
    assert dialog.key_edit.text() == ""
    assert dialog.key_status.text() == "Key valid and saved."
    # Where the key is kept is said once, on its own line.
    where = window.controller.store_description
    assert where in dialog.key_where.text() and where not in dialog.key_status.text()
    assert dialog.delete_button.isEnabled()
    assert auth_state(window) is AuthState.VALID
    qt_loop.run(dialog.delete_key())
    assert secret_store.load() is None
    assert not dialog.delete_button.isEnabled()
    # Automatic engine without a key: the next recording runs offline, and the indicator says so.
    assert auth_state(window) is AuthState.OFFLINE
    # The key never reaches the settings file.
    window.preferences.save(window.controller.settings)
    assert KEY not in (tmp_path / "settings.ini").read_text()


def test_options_are_applied_and_persisted(window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    dialog.region.setCurrentIndex(dialog.region.findData(Region.EU.value))
    dialog.format_turns.setChecked(False)
    dialog.keyterms.setPlainText("Live Transcriber\n\n qasync \n")
    dialog._accept()  # noqa: SLF001 - what OK does
    assert dialog.result_settings is not None
    window.controller.apply_settings(dialog.result_settings)
    window.preferences.save(window.controller.settings)
    loaded = window.preferences.load()
    assert loaded.region is Region.EU and loaded.format_turns is False
    assert loaded.keyterms == ("Live Transcriber", "qasync")
    # The emulator override from the environment survives the dialog.
    assert window.controller.settings.streaming_url_override


def test_speaker_names_are_edited_checked_and_persisted(window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    assert (dialog.speaker_you.text(), dialog.speaker_others.text()) == ("You", "Others")
    dialog.speaker_others.setText("you ")
    dialog._accept()  # noqa: SLF001 - what OK does
    assert dialog.result_settings is None
    assert dialog.settings_error.text() == "The two speaker names must differ."
    dialog = SettingsDialog(window.controller, window)
    dialog.speaker_you.setText("  Ada ")
    dialog.speaker_others.setText("The  team")
    dialog._accept()  # noqa: SLF001
    assert dialog.result_settings is not None
    window.controller.apply_settings(dialog.result_settings)
    window.preferences.save(window.controller.settings)
    loaded = window.preferences.load()
    assert (loaded.speaker_you, loaded.speaker_others) == ("Ada", "The team")


def test_unusable_stored_speaker_names_give_the_defaults(tmp_path: Path) -> None:
    store = QSettings(str(tmp_path / "names.ini"), QSettings.Format.IniFormat)
    store.setValue("speakers/you", "<script>")
    store.setValue("speakers/others", "Guests")
    loaded = Preferences(store).load()
    assert (loaded.speaker_you, loaded.speaker_others) == ("You", "Others")


def test_too_many_key_terms_are_refused_plainly(window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    dialog.keyterms.setPlainText("\n".join(f"term {i}" for i in range(101)))
    dialog._accept()  # noqa: SLF001
    assert dialog.result_settings is None
    assert "At most 100 key terms" in dialog.settings_error.text()


def test_get_an_api_key_link_and_delete_disabled_without_a_stored_key(window: MainWindow) -> None:
    dialog = SettingsDialog(window.controller, window)
    assert dialog.get_key_link.text().startswith("<a href='https://www.assemblyai.com/")
    assert "Get an API key" in dialog.get_key_link.text()
    assert dialog.get_key_link.openExternalLinks()
    assert not window.controller.has_stored_key
    assert not dialog.delete_button.isEnabled()
