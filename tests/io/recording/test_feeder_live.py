"""Live audio to an engine that keeps up leaves from the source's own callback (no task
wake-up per hand-off); whatever has to wait — a full engine, a replay in progress — still goes
through the feeder's task, and every byte arrives once, in order."""

from __future__ import annotations

import asyncio

from app.core.held_audio import BYTES_PER_MS, HeldAudio
from app.core.session import SessionState
from app.io.recording.feeder import AudioFeeder


class Engine:
    """Records what it is sent; its queue is full while ``full`` is set."""

    state = SessionState.STREAMING

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.full = False
        self.room = asyncio.Event()
        self.waiting_for_room = asyncio.Event()  # someone is held back by the full queue

    def send_audio(self, pcm: bytes) -> None:
        self.chunks.append(pcm)

    def queued_ms(self) -> int:
        return 10_000 if self.full else 0

    async def room_for_audio(self, max_queued_ms: int) -> None:
        while self.queued_ms() >= max_queued_ms:
            self.waiting_for_room.set()
            await self.room.wait()

    @property
    def received(self) -> bytes:
        return b"".join(self.chunks)


def frame(n: int, ms: int = 50) -> bytes:
    return bytes([n % 251]) * (ms * BYTES_PER_MS)


async def idle(feeder: AudioFeeder) -> None:
    """Wait (a hang guard only) until the feeder's task waits for new audio."""
    await asyncio.wait_for(feeder.wait_idle(), 5)


async def test_live_audio_goes_out_from_push_itself() -> None:
    feeder = AudioFeeder(HeldAudio(max_ms=60_000))
    engine = Engine()
    feeder.attach(engine)  # type: ignore[arg-type]  # the parts of the port the feeder uses
    runner = asyncio.create_task(feeder.run())
    try:
        await idle(feeder)
        for n in range(4):
            feeder.push(frame(n))
            assert engine.received == b"".join(frame(i) for i in range(n + 1))  # no await
        assert feeder.behind_ms == 0
        await asyncio.wait_for(feeder.wait_caught_up(), 5)  # a hang guard only
    finally:
        runner.cancel()


async def test_a_full_engine_makes_live_audio_wait_in_order() -> None:
    feeder = AudioFeeder(HeldAudio(max_ms=60_000))
    engine = Engine()
    feeder.attach(engine)  # type: ignore[arg-type]
    runner = asyncio.create_task(feeder.run())
    try:
        await idle(feeder)
        feeder.push(frame(0))
        engine.full = True
        for n in range(1, 5):
            feeder.push(frame(n))
        await asyncio.wait_for(engine.waiting_for_room.wait(), 5)  # the task is held back
        assert engine.received == frame(0) and feeder.behind_ms == 200  # held, not dropped
        engine.full = False
        engine.room.set()
        await asyncio.wait_for(feeder.wait_caught_up(), 5)
        feeder.push(frame(5))  # caught up again: straight out
        assert engine.received == b"".join(frame(i) for i in range(6))
    finally:
        runner.cancel()


async def test_a_new_session_hears_the_held_audio_before_the_newest_frame() -> None:
    held = HeldAudio(max_ms=60_000)
    feeder = AudioFeeder(held)
    first = Engine()
    feeder.attach(first)  # type: ignore[arg-type]
    runner = asyncio.create_task(feeder.run())
    try:
        await idle(feeder)
        for n in range(3):
            feeder.push(frame(n))
        feeder.detach()  # the connection dropped; no turn finished, so all of it is held
        second = Engine()
        feeder.attach(second)  # type: ignore[arg-type]
        feeder.push(frame(3))  # arrives before the task has replayed the held audio
        await asyncio.wait_for(feeder.wait_caught_up(), 5)
        assert second.received == b"".join(frame(i) for i in range(4))
        assert first.received == b"".join(frame(i) for i in range(3))
    finally:
        runner.cancel()
