"""Qt + asyncio for window tests: a qasync loop on the test's QApplication, and helpers that
wait on Qt signals (never on time)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent, SignalInstance
from PySide6.QtWidgets import QApplication

T = TypeVar("T")


class QtLoop:
    """Runs one coroutine at a time on a qasync loop, as the app does with ``qasync.run``."""

    def __init__(self, app: QApplication) -> None:
        self.loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        async def bounded() -> T:  # one task: no wrapper left behind for leak checks
            async with asyncio.timeout(timeout):
                result: T = await coro
            return result
        outcome: T = self.loop.run_until_complete(bounded())
        return outcome

    def close(self) -> None:
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[QtLoop]:
    runner = QtLoop(qapp)
    try:
        yield runner
    finally:
        runner.close()
        _release_qt_objects(qapp)


def _release_qt_objects(app: QApplication) -> None:
    """Destroy this test's windows and collect its garbage now, on the GUI thread.

    Otherwise a later test's worker thread (an offline decode) may trigger the cycle collector,
    which then destroys a QObject with live timers off the GUI thread: Qt cannot unregister
    them there, and the next timer event hits freed memory (a segfault seen in
    QTimerInfoList::activateTimers).
    """
    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def expect_signal(signal: SignalInstance, predicate: Callable[..., bool] = lambda *a: True,
                  seconds: float = 10.0) -> Coroutine[Any, Any, tuple[Any, ...]]:
    """Connect to ``signal`` now, before the action that emits it; await the result later:
    ``done = expect_signal(sig); act(); args = await done``. Waits until ``signal`` is emitted
    with arguments that satisfy ``predicate``."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def handler(*args: Any) -> None:
        if not future.done() and predicate(*args):
            future.set_result(args)

    signal.connect(handler)

    async def emitted() -> tuple[Any, ...]:
        try:
            return await asyncio.wait_for(future, seconds)
        finally:
            signal.disconnect(handler)
    return emitted()


async def signal_until(signal: SignalInstance, predicate: Callable[..., bool] = lambda *a: True,
                       seconds: float = 10.0) -> tuple[Any, ...]:
    """Wait until ``signal`` is emitted with arguments that satisfy ``predicate``."""
    return await expect_signal(signal, predicate, seconds)
