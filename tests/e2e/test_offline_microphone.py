"""Offline transcription end to end with real parts: PulseAudio virtual microphone → PyAudio
callback capture → offline engine (Whisper tiny.en, real time) → recorder → transcript model.
No network at all."""

from __future__ import annotations

import asyncio

from app.core.devices import InputDevice
from app.core.errors import LiveTranscriberError
from app.core.ports import EventSink
from app.core.recording import RecorderState
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.capture import PyAudioCapture
from app.io.offline_engine import OfflineEngine
from app.io.recorder import Recorder
from app.io.whisper_model import WhisperModelLoader
from tests.support.pulse import PulseServer
from tests.support.speech import load_fixture, word_error_rate

# Measured: 0.0 (the streamed notebook sentence is word for word the reference).
WER_BOUND = 0.12


class Listener:
    def __init__(self) -> None:
        self.recording = asyncio.Event()
        self.errors: list[LiveTranscriberError] = []
        self.changes: list[TranscriptChange] = []
        self.sessions: list[str] = []

    def on_state(self, state: RecorderState) -> None:
        if state is RecorderState.RECORDING:
            self.recording.set()

    def on_transcript(self, change: TranscriptChange) -> None:
        self.changes.append(change)

    def on_level(self, level: Level) -> None:
        pass

    def on_error(self, error: LiveTranscriberError) -> None:
        self.errors.append(error)

    def on_session(self, session_id: str) -> None:
        self.sessions.append(session_id)


async def test_virtual_microphone_to_the_offline_engine(pulse_server: PulseServer) -> None:
    speech = load_fixture("notebook")
    loader = WhisperModelLoader()
    await loader.load()  # as the app does ahead of the first offline recording
    sink = await asyncio.to_thread(pulse_server.load_sink, "voffline")
    device = InputDevice(id=sink.monitor, name="offline mic", host_api="PulseAudio", channels=1,
                         default_rate=16000)
    captures: list[PyAudioCapture] = []

    def microphone(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
        captures.append(PyAudioCapture(device, on_frame=on_frame, on_level=on_level,
                                       on_error=on_error))
        return captures[-1]

    def engine(sink_: EventSink) -> OfflineEngine:
        return OfflineEngine(loader, sink_)

    model, listener, stop = TranscriptModel(), Listener(), asyncio.Event()
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
