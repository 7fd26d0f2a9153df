"""The API key store against a real Secret Service (gnome-keyring in a private D-Bus session)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.core.errors import SecretStoreError
from app.io.secrets import ACCOUNT, SERVICE, KeyringStore, SessionOnlyStore, open_secret_store
from tests.support.secret_service import SecretServiceSession, private_secret_service

KEY = "f3a1c2b4d5e6f708192a3b4c5d6e7f80"


def secret_tool_lookup() -> str:
    done = subprocess.run(["secret-tool", "lookup", "service", SERVICE, "username", ACCOUNT],
                          capture_output=True, text=True, timeout=10, check=False)
    return done.stdout


def test_round_trip_through_the_real_secret_service(secret_service: SecretServiceSession) -> None:
    store = open_secret_store()
    assert isinstance(store, KeyringStore) and store.persistent
    assert "SecretService" in store.description or "Secret" in store.description
    store.delete()
    assert store.load() is None
    store.save(KEY)
    # Another process sees the same item: it really is in the OS keyring.
    assert secret_tool_lookup() == KEY
    assert open_secret_store().load() == KEY
    store.delete()
    assert store.load() is None
    assert secret_tool_lookup() == ""
    store.delete()  # deleting nothing is fine


def test_the_key_is_never_written_to_a_plain_file(
    secret_service: SecretServiceSession, tmp_path: Path
) -> None:
    store = open_secret_store()
    store.save(KEY)
    try:
        # gnome-keyring encrypts its file; the key must not appear in clear anywhere we own.
        for path in secret_service.data_home.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path
    finally:
        store.delete()


def test_no_keyring_backend_keeps_the_key_for_this_session_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = open_secret_store()
    assert isinstance(store, SessionOnlyStore) and not store.persistent
    assert "this session only" in store.description
    store.save(KEY)
    assert store.load() == KEY
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "nothing may be written"
    store.delete()
    assert store.load() is None


def test_a_locked_keyring_is_a_plain_error(caplog: pytest.LogCaptureFixture) -> None:
    # Its own Secret Service: a locked login keyring cannot be unlocked again without a prompt.
    with private_secret_service() as service:
        store = open_secret_store()
        assert isinstance(store, KeyringStore)
        store.save(KEY)
        service.lock_login_keyring()
        assert service.login_keyring_locked()
        sentences = {
            store.load: "Could not read the API key from the system keyring.",
            lambda: store.save(KEY): "Could not save the API key in the system keyring.",
            store.delete: "Could not delete the API key from the system keyring.",
        }
        for action, sentence in sentences.items():
            with pytest.raises(SecretStoreError) as info:
                action()
            assert info.value.message == sentence
            assert "Unlock your system keyring" in info.value.remedy
            assert KEY not in str(info.value)
        assert service.login_keyring_locked()  # nothing unlocked it behind the person's back
    # What keyring itself raised was a locked keyring, logged by name only.
    assert caplog.text.count("KeyringLocked") == 3
    assert KEY not in caplog.text


def test_empty_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        SessionOnlyStore().save("")
