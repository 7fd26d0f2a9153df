"""Sleeps that end at a wake-up the event loop has anyway: the periodic checks of a recording
(the capture's watchdog, the cloud session's liveness watch, the uplink watch) ride on the
audio hand-offs instead of waking the loop's thread with timers of their own.

While audio flows, the loop's thread wakes every hand-off (``WAKE_MS``, 100 ms) to pass it on.
A check with its own timer wakes the thread once more each period, and on a machine where
every wake-up finds cold caches that wake-up costs more than the check (issue 14). So
:func:`lazy_sleep` ``(delay)`` ends *early* rather than late: at the first hand-off
(:func:`beat`, called by :class:`app.io.audio.pump.AudioPump` as it delivers) at most
:data:`SLACK_S` before ``delay`` is up, or, when no hand-off comes in that window (the device
stalled, nothing is recording), at ``delay`` exactly by its own timer. A check therefore never
runs later than with ``asyncio.sleep(delay)``; it may run up to ``SLACK_S`` sooner, and a
check that measures time reads the clock (as all of them do) rather than counting sleeps.

The wake-up is saved where a cancelled timer never fires: asyncio's own loops (the headless
mode) drop it. qasync (the window) still delivers a cancelled timer's Qt event and only skips
the callback, so there a check ends at a hand-off all the same but its timer still wakes the
thread once, as before.

Loop thread only (like the rest of asyncio); one set of sleepers per event loop.
"""

from __future__ import annotations

import asyncio
import weakref

from app.core.audio import WAKE_MS

# Wider than one hand-off period, so a hand-off falls in the window even with some jitter
# and the sleeper's own timer stays unused while audio flows.
SLACK_S = 1.5 * WAKE_MS / 1000


def shortest(delay: float) -> float:
    """The shortest a :func:`lazy_sleep` of ``delay`` can be: its window opens then."""
    delay = max(0.0, delay)
    return delay - min(SLACK_S, delay / 2)


class _Sleeper:
    __slots__ = ("earliest", "future", "timer")

    def __init__(self, earliest: float, future: asyncio.Future[None],
                 timer: asyncio.TimerHandle) -> None:
        self.earliest = earliest
        self.future = future
        self.timer = timer


class LazySleeps:
    """The sleepers of one event loop; :func:`lazy_sleep` and :func:`beat` find it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._sleepers: list[_Sleeper] = []  # a handful at most: a list beats a heap
        self._next = float("inf")  # the earliest time any sleeper may end

    def __len__(self) -> int:
        return len(self._sleepers)

    def sleep(self, delay: float) -> asyncio.Future[None]:
        """A future done within [``delay`` - slack, ``delay``] from now (slack: ``SLACK_S``,
        at most half of ``delay``). Cancelling it forgets the sleeper."""
        loop = self._loop
        now = loop.time()
        future: asyncio.Future[None] = loop.create_future()
        sleeper = _Sleeper(now + shortest(delay), future,
                           loop.call_at(now + max(0.0, delay), self._end, future))
        self._sleepers.append(sleeper)
        self._next = min(self._next, sleeper.earliest)
        future.add_done_callback(self._forget)
        return future

    def beat(self) -> None:
        """A wake-up the loop has anyway: end every sleeper whose window has begun."""
        if self._next > self._loop.time():
            return
        now = self._loop.time()
        for sleeper in [s for s in self._sleepers if s.earliest <= now]:
            self._end(sleeper.future)

    @staticmethod
    def _end(future: asyncio.Future[None]) -> None:
        if not future.done():
            future.set_result(None)

    def _forget(self, future: asyncio.Future[None]) -> None:
        for sleeper in self._sleepers:
            if sleeper.future is future:
                sleeper.timer.cancel()  # a cancelled timer never wakes the loop
                self._sleepers.remove(sleeper)
                break
        self._next = min((s.earliest for s in self._sleepers), default=float("inf"))


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LazySleeps] = (
    weakref.WeakKeyDictionary())


def sleeps_of(loop: asyncio.AbstractEventLoop) -> LazySleeps:
    """The sleepers of ``loop`` (made on first use)."""
    sleeps = _BY_LOOP.get(loop)
    if sleeps is None:
        sleeps = _BY_LOOP[loop] = LazySleeps(loop)
    return sleeps


async def lazy_sleep(delay: float) -> None:
    """Sleep ``delay`` seconds, ending up to ``SLACK_S`` sooner at an audio hand-off."""
    await sleeps_of(asyncio.get_running_loop()).sleep(delay)


def beat() -> None:
    """Called at each audio hand-off on the loop's thread; a no-op outside a running loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    sleeps = _BY_LOOP.get(loop)
    if sleeps is not None:
        sleeps.beat()
