"""The whole hot path with real parts: PulseAudio virtual microphone → PyAudio callback capture
→ pump → streaming client → emulator (loopback) → transcript model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.audio import FRAME_BYTES
from app.core.config import StreamingParams, endpoints_for
from app.core.ports import EventSink
from app.core.transcript import TranscriptModel
from app.io.cloud.session import StreamingSession
from app.io.recording.recorder import Recorder
from tests.emulator import EmulatorConfig, ScriptedRecognizer, run_emulator
from tests.support.pulse import PulseServer
from tests.support.recording import RecordingLog, VirtualMicrophone

HELLO = Path(__file__).parents[1] / "fixtures" / "hello.wav"
KEY = "e2e-key"


async def test_virtual_microphone_to_the_service_drops_nothing(
    pulse_server: PulseServer,
) -> None:
    sink = await asyncio.to_thread(pulse_server.load_sink, "ve2e")
    microphone = VirtualMicrophone(sink.monitor)
    captures = microphone.captures

    config = EmulatorConfig(api_keys=frozenset({KEY}), recognizer_factory=lambda p:
                            ScriptedRecognizer(("the microphone works",), ms_per_word=300))
    try:
        async with run_emulator(config) as emu:
            def engine(sink_: EventSink) -> StreamingSession:
                return StreamingSession(endpoints_for(override=emu.url), KEY,
                                        StreamingParams(format_turns=False), sink_)

            model, listener, stop = TranscriptModel(), RecordingLog(), asyncio.Event()
            recorder = Recorder(model, listener)
            task = asyncio.create_task(recorder.record(microphone, engine, stop))
            await asyncio.wait_for(listener.recording.wait(), 10)
            player = pulse_server.play(HELLO, sink)
            assert await asyncio.to_thread(player.wait, 15) == 0
            stop.set()
            assert await asyncio.wait_for(task, 15) is None
            (session,) = await emu.wait_sessions_closed_async(1)
    finally:
        await asyncio.to_thread(pulse_server.unload, sink)

    (capture,) = captures
    assert listener.errors == []
    assert capture.dropped_frames == 0 and capture.overflows == 0
    assert capture.frames_delivered >= 3.1 / 0.05  # the whole 3.1 s file, plus silence
    # Every captured 50 ms frame reached the service, two to a binary message (WIRE_FRAME_MS);
    # an odd last frame goes alone, as the shortest message the service takes.
    assert session.audio_bytes_received == capture.frames_delivered * FRAME_BYTES
    assert session.frames_received == (capture.frames_delivered + 1) // 2
    assert [t.text for t in model.finals] == ["the microphone works"]
    assert max(level.peak_dbfs for level in listener.levels) > -30
