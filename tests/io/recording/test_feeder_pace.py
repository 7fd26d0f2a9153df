"""The service's pacing rule (about 1.25x real time once 60 s ahead) holds back audio for the
cloud only: an engine on this computer takes a long file as fast as it can."""

from __future__ import annotations

import asyncio

from app.core.held_audio import BYTES_PER_MS, HeldAudio
from app.core.session import SessionState
from app.io.recording.feeder import AudioFeeder


class LocalEngine:
    """Takes every chunk at once, like the offline engine with room to spare."""

    follows_service_pace = False
    state = SessionState.STREAMING

    def __init__(self) -> None:
        self.received = 0

    def send_audio(self, pcm: bytes) -> None:
        self.received += len(pcm)

    async def room_for_audio(self, max_queued_ms: int) -> None:
        return None


async def test_a_local_engine_gets_two_minutes_of_a_file_with_no_time_passing() -> None:
    feeder = AudioFeeder(HeldAudio(max_ms=300_000), clock=lambda: 0.0)  # the clock stands
    engine = LocalEngine()
    feeder.attach(engine)  # type: ignore[arg-type]  # the parts of the port the feeder uses
    runner = asyncio.create_task(feeder.run())
    try:
        for _ in range(120):
            feeder.push(bytes(1000 * BYTES_PER_MS))
        # Under the service's rule this would wait ~48 s of (frozen) time past 60 s ahead.
        await asyncio.wait_for(feeder.wait_caught_up(), 30)  # a hang guard only
    finally:
        runner.cancel()
    assert engine.received == 120_000 * BYTES_PER_MS
