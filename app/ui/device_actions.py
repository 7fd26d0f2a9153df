"""The controller's input-device actions: list the devices (off the UI thread), choose one,
remember it, and follow hot-plug from the provider's watcher thread.

:class:`DeviceActions` is a mixin of :class:`app.ui.controller.AppController` (its only user):
the device state and the ``devices_changed`` signal live on the controller; :class:`DeviceHost`
names what these methods use of it, so mypy checks both sides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, Protocol

from PySide6.QtCore import SignalInstance

from app.core.config import Settings
from app.core.devices import DeviceChoice, InputDevice, choose_device, with_both
from app.core.errors import LiveTranscriberError
from app.core.policy import Message, Severity
from app.ui.services import Services


class DeviceHost(Protocol):
    """What the device actions use of the controller."""

    settings: Settings
    devices_changed: SignalInstance
    _services: Services
    _devices: list[InputDevice]
    _device: InputDevice | None
    _loop: asyncio.AbstractEventLoop | None

    def spawn(self, coro: Awaitable[Any]) -> None: ...
    def _set_error(self, message: Message | None) -> None: ...
    async def refresh_devices(self) -> None: ...


class DeviceActions:
    @property
    def device(self: DeviceHost) -> InputDevice | None:
        return self._device

    async def refresh_devices(self: DeviceHost) -> None:
        try:
            devices = await asyncio.to_thread(self._services.device_provider.list_devices)
        except LiveTranscriberError as exc:
            self._set_error(Message(Severity.ERROR, str(exc)))
            devices = []
        devices = with_both(devices)  # plus "Microphone + system audio" where both exist
        self._devices = devices
        remembered = self._device.id if self._device is not None else self.settings.device_id
        choice = choose_device(devices, remembered)
        self._device = choice.device
        self.devices_changed.emit(devices, choice)

    def select_device(self: DeviceHost, device_id: str) -> None:
        chosen = next((d for d in self._devices if d.id == device_id), None)
        if chosen is not None:
            self._device = chosen
            self.devices_changed.emit(self._devices, DeviceChoice(chosen))

    def remember_device(self: DeviceHost, device_id: str) -> Settings:
        """The settings with this device remembered (the window persists them)."""
        self.settings = replace(self.settings, device_id=device_id)
        return self.settings

    def _devices_changed_elsewhere(self: DeviceHost) -> None:
        # Called from the provider's watcher thread: hop to the loop before touching state.
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: self.spawn(self.refresh_devices()))
