"""The API key in the OS keyring (service ``live-transcriber``), via the ``keyring`` package.

Linux uses the Secret Service (GNOME Keyring, KWallet), macOS the Keychain, Windows the
Credential Manager. On a machine with no usable backend (a headless Linux box without a
Secret Service) the key is kept in memory for this session only and the UI says so; it is
never written to a file, "obfuscated" or not.

All methods block (D-Bus round trips, OS prompts): callers run them with ``asyncio.to_thread``.
Errors become :class:`SecretStoreError` with a plain sentence; no text from here ever holds
the key.
"""

from __future__ import annotations

import logging
from typing import Final

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.core
import keyring.errors

from app.core.errors import SecretStoreError
from app.core.ports import SecretStore
from app.io.keyring_compat import forget_viable_backends

log = logging.getLogger(__name__)

SERVICE: Final = "live-transcriber"
ACCOUNT: Final = "assemblyai-api-key"

# keyring's own errors (KeyringLocked, InitError, ...) derive from Exception; only
# NoKeyringError is also a RuntimeError. Its backends let some RuntimeErrors (D-Bus gone, service
# not activatable) and OSErrors through unwrapped.
_BACKEND_ERRORS: Final = (keyring.errors.KeyringError, RuntimeError, OSError)

_FIX = "Unlock your system keyring (e.g. GNOME Keyring or KWallet) and try again."


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    if isinstance(backend, keyring.backends.fail.Keyring):
        return False
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    name = getattr(backend, "name", "") or type(backend).__name__
    return str(name)


class KeyringStore:
    """The key in the OS keyring."""

    def __init__(self, backend: keyring.backend.KeyringBackend) -> None:
        self._backend = backend

    @property
    def persistent(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return f"the system keyring ({_backend_name(self._backend)})"

    def load(self) -> str | None:
        try:
            value = self._backend.get_password(SERVICE, ACCOUNT)
        except _BACKEND_ERRORS as exc:
            log.warning("keyring read failed: %s", type(exc).__name__)
            raise SecretStoreError("Could not read the API key from the system keyring.",
                                   remedy=_FIX) from None
        return value or None

    def save(self, secret: str) -> None:
        if not secret:
            raise ValueError("refusing to store an empty key")
        try:
            self._backend.set_password(SERVICE, ACCOUNT, secret)
        except _BACKEND_ERRORS as exc:
            log.warning("keyring write failed: %s", type(exc).__name__)
            raise SecretStoreError("Could not save the API key in the system keyring.",
                                   remedy=_FIX) from None

    def delete(self) -> None:
        try:
            self._backend.delete_password(SERVICE, ACCOUNT)
        except keyring.errors.PasswordDeleteError:
            return  # nothing stored: already the wanted state
        except _BACKEND_ERRORS as exc:
            log.warning("keyring delete failed: %s", type(exc).__name__)
            raise SecretStoreError("Could not delete the API key from the system keyring.",
                                   remedy=_FIX) from None


class SessionOnlyStore:
    """No OS keyring: the key lives in this process's memory until the app quits."""

    def __init__(self) -> None:
        self._secret: str | None = None

    @property
    def persistent(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return "this session only (no system keyring was found)"

    def load(self) -> str | None:
        return self._secret

    def save(self, secret: str) -> None:
        if not secret:
            raise ValueError("refusing to store an empty key")
        self._secret = secret

    def delete(self) -> None:
        self._secret = None


def open_secret_store() -> SecretStore:
    """The OS keyring when one is usable, else a session-only store. Blocks: D-Bus probe."""
    # keyring computes the viable backends once per process; a Secret Service that was not
    # reachable then (no session bus yet) would be ignored for good. Detect afresh.
    forget_viable_backends()
    try:
        keyring.core.init_backend()
        backend = keyring.get_keyring()
    except _BACKEND_ERRORS as exc:
        log.warning("no keyring backend: %s", type(exc).__name__)
        return SessionOnlyStore()
    if not _usable(backend):
        log.info("no usable keyring backend; the API key is kept for this session only")
        return SessionOnlyStore()
    return KeyringStore(backend)
