"""Offline transcription end to end with real parts: PulseAudio virtual microphone → PyAudio
callback capture → offline engine (Whisper tiny.en, real time) → recorder → transcript model.
No network at all."""

from __future__ import annotations

import asyncio

from app.core.ports import EventSink
from app.core.transcript import TranscriptModel
from app.io.offline.engine import OfflineEngine
from app.io.offline.model import WhisperModelLoader
from app.io.recording.recorder import Recorder
from tests.support.pulse import PulseServer
from tests.support.recording import RecordingLog, VirtualMicrophone
from tests.support.speech import load_fixture, word_error_rate

# Measured: 0.0 (the streamed notebook sentence is word for word the reference).
WER_BOUND = 0.12


async def test_virtual_microphone_to_the_offline_engine(pulse_server: PulseServer) -> None:
    speech = load_fixture("notebook")
    loader = WhisperModelLoader()
    await loader.load()  # as the app does ahead of the first offline recording
    sink = await asyncio.to_thread(pulse_server.load_sink, "voffline")
    microphone = VirtualMicrophone(sink.monitor)
    captures = microphone.captures

    def engine(sink_: EventSink) -> OfflineEngine:
        return OfflineEngine(loader, sink_)

    model, listener, stop = TranscriptModel(), RecordingLog(), asyncio.Event()
    try:
        task = asyncio.create_task(Recorder(model, listener).record(microphone, engine, stop))
        await asyncio.wait_for(listener.recording.wait(), 10)
        player = pulse_server.play(speech.wav, sink)
        assert await asyncio.to_thread(player.wait, 20) == 0
        stop.set()
        assert await asyncio.wait_for(task, 30) is None
    finally:
        await asyncio.to_thread(pulse_server.unload, sink)

    (capture,) = captures
    assert listener.errors == []
    assert capture.dropped_frames == 0 and capture.overflows == 0
    assert len(listener.sessions) == 1 and listener.sessions[0].startswith("offline-")
    kinds = [c.kind for c in listener.changes]
    assert "partial" in kinds and kinds.index("partial") < kinds.index("final")
    text = " ".join(turn.text for turn in model.finals)
    wer = word_error_rate([speech.reference], [text])
    print(f"\nend-to-end offline WER {wer:.3f}: {text!r}")
    assert wer <= WER_BOUND
    assert not any(turn.interrupted for turn in model.finals)
