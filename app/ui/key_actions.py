"""The controller's API-key and engine-choice actions: load the key (off the UI thread), check
it with the service, save only a key the service accepted, delete it, and choose the engine.

:class:`KeyActions` is a mixin of :class:`app.ui.controller.AppController` (its only user): the
key's state lives on the controller, which owns every signal; these methods only read and set
it. :class:`KeyHost` names what they use of the controller, so mypy checks both sides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, Protocol

from app.core import auth, policy
from app.core.auth import AuthStatus
from app.core.config import EngineChoice, Settings
from app.core.errors import LiveTranscriberError, SecretStoreError
from app.core.ports import KeyCheck, KeyStatus, OfflineEngines
from app.ui.services import Services


class KeyHost(Protocol):
    """What the key actions use of the controller."""

    settings: Settings
    _services: Services
    _key: str | None
    _stored: bool

    @property
    def engine(self) -> EngineChoice: ...
    @property
    def has_key(self) -> bool: ...
    @property
    def key_is_session_only(self) -> bool: ...
    def spawn(self, coro: Awaitable[Any]) -> None: ...
    def on_error(self, error: LiveTranscriberError) -> None: ...
    def _set_auth(self, status: AuthStatus) -> None: ...
    def _emit_engine_status(self) -> None: ...
    async def refresh_auth(self) -> None: ...
    async def _check(self, key: str) -> KeyCheck: ...
    async def _preload(self, offline: OfflineEngines) -> None: ...


class KeyActions:
    async def _load_key(self: KeyHost) -> None:
        stored: str | None = None
        if self._services.env_key is None:
            try:
                stored = await asyncio.to_thread(self._services.secret_store.load)
            except SecretStoreError as exc:
                self.on_error(exc)
                return
        self._stored = stored is not None
        self._key = policy.key_in_use(self._services.env_key, stored)
        await self.refresh_auth()

    async def refresh_auth(self: KeyHost) -> None:
        """Show what the next recording depends on: the key's state, or Offline."""
        status = policy.status_before_start(self.engine, self.has_key,
                                            session_only=self.key_is_session_only)
        if status is not None:
            self._set_auth(status)
        elif self._key is not None:
            await self._check(self._key)
        if self.engine is EngineChoice.OFFLINE:
            # The model takes about a second to verify and load: do it before Start.
            self.spawn(self._preload(self._services.offline))

    async def _preload(self: KeyHost, offline: OfflineEngines) -> None:
        try:
            await offline.preload(self.settings)
        except LiveTranscriberError as exc:  # e.g. a damaged model: say so before Start
            self.on_error(exc)

    def set_engine(self: KeyHost, choice: EngineChoice) -> Settings:
        """Choose cloud, offline or automatic; returns the settings to persist."""
        self.settings = replace(self.settings, engine=choice)
        self._emit_engine_status()
        self.spawn(self.refresh_auth())
        return self.settings

    async def _check(self: KeyHost, key: str) -> KeyCheck:
        self._set_auth(auth.checking(session_only=self.key_is_session_only))
        check = await self._services.validate_key(key, self.settings)
        self._set_auth(auth.from_check(check, session_only=self.key_is_session_only))
        return check

    async def save_key(self: KeyHost, key: str) -> KeyCheck:
        """Validate, and store only a key the service accepted. Returns the check."""
        key = key.strip()
        check = await self._check(key)
        if check.status is not KeyStatus.VALID:
            return check
        try:
            await asyncio.to_thread(self._services.secret_store.save, key)
        except SecretStoreError as exc:
            self.on_error(exc)
            return KeyCheck(KeyStatus.VALID, exc)
        self._key, self._stored = key, True
        return check

    async def delete_key(self: KeyHost) -> None:
        try:
            await asyncio.to_thread(self._services.secret_store.delete)
        except SecretStoreError as exc:
            self.on_error(exc)
            return
        self._stored = False
        self._key = policy.key_in_use(self._services.env_key, None)
        await self.refresh_auth()
