"""Downloads of optional offline models, owned by the controller rather than the Settings
dialog: the dialog only shows progress, and closing it mid-download cancels the download
explicitly (it says so), without any task touching its deleted widgets afterwards.

Progress and the outcome reach whoever listens through Qt signals; a dialog connected to them
is disconnected by Qt when it is destroyed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.errors import LiveTranscriberError
from app.core.ports import OfflineEngines

log = logging.getLogger(__name__)


class _Flag:
    """The ``CancelFlag`` port: a plain flag, read from the download's worker thread."""

    def __init__(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True


class ModelDownloads(QObject):
    progress = Signal(str, int, int)  # model name, bytes done, bytes in all
    finished = Signal(str, bool, str)  # model name, installed, a sentence for the person

    def __init__(self, store: OfflineEngines, spawn: Callable[[Awaitable[Any]], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._spawn = spawn
        self._active: str | None = None
        self._cancel: _Flag | None = None
        self._done: asyncio.Future[bool] | None = None

    @property
    def active(self) -> str | None:
        """The model being downloaded now, if any."""
        return self._active

    def start(self, name: str) -> asyncio.Future[bool]:
        """Begin downloading ``name`` (one at a time); the future says whether it installed."""
        if self._done is not None and self._active is not None:
            return self._done
        self._active, self._cancel = name, _Flag()
        self._done = asyncio.get_running_loop().create_future()
        self._spawn(self._run(name, self._cancel, self._done))
        return self._done

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    async def _run(self, name: str, cancel: _Flag, done: asyncio.Future[bool]) -> None:
        installed = False
        try:
            installed = await self._store.download(
                name, lambda got, total: self.progress.emit(name, got, total), cancel)
            message = (f"{name} is ready." if installed
                       else "Download cancelled; nothing was kept.")
        except LiveTranscriberError as exc:
            message = f"Not downloaded. {exc}"
        except Exception:  # a bug: say so, and leave the dialog usable
            log.exception("downloading %s failed", name)
            message = "Not downloaded: Live Transcriber failed; details are in its log."
        finally:
            self._active = self._cancel = None
            if not done.done():
                done.set_result(installed)
        self.finished.emit(name, installed, message)
