"""The crash-recovery offer: recordings whose journal has no end record, put back on request.

At start the window asks :meth:`RecoveryOffer.check`; when the transcripts folder holds an
unfinished recording, :attr:`offer_changed` carries the message bar's "Restore / Dismiss"
offer for the newest one. Every disk access goes through ``asyncio.to_thread`` (the store
blocks); failures come back as the controller's errors, so they reach the message bar too.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Signal

from app.core import policy
from app.core.errors import LiveTranscriberError
from app.core.journal import UnfinishedRecording
from app.core.policy import Message, Severity
from app.core.recording import RecorderState
from app.ui.controller import AppController


class RecoveryOffer(QObject):
    offer_changed = Signal(object)  # policy.Message, or None once nothing is left to offer
    outcome = Signal(object)  # policy.Message: what Restore did, or why it cannot yet

    def __init__(self, controller: AppController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self._found: list[UnfinishedRecording] = []

    @property
    def pending(self) -> list[UnfinishedRecording]:
        return list(self._found)

    async def check(self) -> None:
        store = self._controller.recovery
        if store is None:
            return
        self._found = await asyncio.to_thread(store.unfinished)
        self.offer_changed.emit(policy.recovery_message(self._found) if self._found else None)

    async def restore(self) -> bool:
        """Load the newest unfinished recording into the window and mark it recovered."""
        store, controller = self._controller.recovery, self._controller
        if store is None or not self._found:
            return False
        if controller.state is not RecorderState.IDLE or not controller.model.is_empty:
            self.outcome.emit(Message(
                Severity.WARNING, "The window already holds a transcript. Save or clear it "
                "(and stop recording), then press Restore again."))
            return False
        recording = self._found[0]
        try:
            turns = await asyncio.to_thread(store.load, recording)
            text_file = await asyncio.to_thread(store.restore, recording)
        except LiveTranscriberError as exc:
            controller.on_error(exc)
            return False
        controller.restore_turns(turns)
        count = len(turns)
        self.outcome.emit(Message(
            Severity.INFO, f"Restored {count} paragraph{'' if count == 1 else 's'}. The text "
            f"is also in {text_file}."))
        await self.check()
        return True

    async def dismiss(self) -> None:
        """No more offers for the newest unfinished recording; its files stay."""
        store = self._controller.recovery
        if store is None or not self._found:
            return
        try:
            await asyncio.to_thread(store.dismiss, self._found[0])
        except LiveTranscriberError as exc:
            self._controller.on_error(exc)
            return
        await self.check()
