"""lazy_sleep: periodic checks end at an audio hand-off (beat) inside their window, else by
their own timer; on a real event loop, no device."""

from __future__ import annotations

import asyncio

from app.core.audio import FRAME_BYTES
from app.io.audio.pump import AudioPump
from app.io.lazy_sleep import SLACK_S, beat, lazy_sleep, shortest, sleeps_of


async def settled() -> None:
    """One loop iteration: done-callbacks scheduled with call_soon have run."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_without_hand_offs_its_own_timer_ends_it() -> None:
    await asyncio.wait_for(lazy_sleep(0.05), timeout=30)
    await settled()
    assert len(sleeps_of(asyncio.get_running_loop())) == 0


async def test_a_hand_off_before_its_window_does_not_end_it() -> None:
    sleeps = sleeps_of(asyncio.get_running_loop())
    waiting = sleeps.sleep(60.0)  # its window opens SLACK_S before 60 s: far away
    beat()
    await settled()
    assert not waiting.done()
    waiting.cancel()
    await settled()
    assert len(sleeps) == 0  # cancelled: forgotten, its timer cancelled with it


async def test_a_hand_off_in_its_window_ends_it_and_its_timer_goes() -> None:
    loop = asyncio.get_running_loop()
    sleeps = sleeps_of(loop)
    waiting = sleeps.sleep(0.0)  # the window is open at once
    timers_before = sum(1 for handle in _timers(loop) if not handle.cancelled())
    beat()
    assert waiting.done()
    await settled()
    assert len(sleeps) == 0
    assert sum(1 for handle in _timers(loop) if not handle.cancelled()) == timers_before - 1


async def test_the_window_is_at_most_half_the_delay() -> None:
    sleeps = sleeps_of(asyncio.get_running_loop())
    short = sleeps.sleep(2 * SLACK_S / 3)  # window: the last third of the delay only
    beat()
    assert not short.done()
    await asyncio.wait_for(short, timeout=30)


async def test_a_cancelled_sleeper_is_forgotten() -> None:
    task = asyncio.ensure_future(lazy_sleep(60.0))
    await settled()
    assert len(sleeps_of(asyncio.get_running_loop())) == 1
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await settled()
    assert len(sleeps_of(asyncio.get_running_loop())) == 0


async def test_the_audio_pump_s_hand_off_is_a_beat() -> None:
    frames: list[bytes] = []
    pump = AudioPump(frames.append)
    waiting = sleeps_of(asyncio.get_running_loop()).sleep(0.0)
    pump.put_and_drain(b"\0" * FRAME_BYTES)
    assert frames and waiting.done()


def test_beat_outside_a_running_loop_does_nothing() -> None:
    beat()


def _timers(loop: asyncio.AbstractEventLoop) -> list[asyncio.TimerHandle]:
    scheduled = getattr(loop, "_scheduled", None)  # asyncio's base loop keeps its timers here
    assert isinstance(scheduled, list), "this test needs asyncio's own event loop"
    return scheduled


def test_the_shortest_a_sleep_can_be() -> None:
    assert shortest(2.0) == 2.0 - SLACK_S  # a hand-off period and a half early at most
    assert shortest(0.2) == 0.1  # never more than half the delay
    assert shortest(-1.0) == 0.0
