"""What tests need around ``app.io.recording.recorder.Recorder``: a listener that keeps everything a
recording reports, and a source factory recording one virtual microphone with PyAudio."""

from __future__ import annotations

import asyncio

from app.core.devices import InputDevice
from app.core.errors import LiveTranscriberError
from app.core.recording import RecorderState, RecordingNotice
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import TranscriptChange
from app.io.audio.capture import PyAudioCapture


class RecordingLog:
    """A ``RecordingListener`` that records; ``recording`` is set once RECORDING is reached."""

    def __init__(self) -> None:
        self.states: list[RecorderState] = []
        self.changes: list[TranscriptChange] = []
        self.errors: list[LiveTranscriberError] = []
        self.levels: list[Level] = []
        self.sessions: list[str] = []
        self.notices: list[RecordingNotice] = []
        self.recording = asyncio.Event()
        self.noticed = asyncio.Event()
        self.changed = asyncio.Event()  # set at every transcript change; clear it to wait again

    def on_state(self, state: RecorderState) -> None:
        self.states.append(state)
        if state is RecorderState.RECORDING:
            self.recording.set()

    def on_transcript(self, change: TranscriptChange) -> None:
        self.changes.append(change)
        self.changed.set()

    def on_level(self, level: Level) -> None:
        self.levels.append(level)

    def on_error(self, error: LiveTranscriberError) -> None:
        self.errors.append(error)

    def on_session(self, session_id: str) -> None:
        self.sessions.append(session_id)

    def on_notice(self, notice: RecordingNotice) -> None:
        self.notices.append(notice)
        self.noticed.set()

    def final_text(self) -> str:
        """The finished turns' text, in order, one line each (the latest form of each)."""
        finals: dict[tuple[int, int], str] = {}
        for change in self.changes:
            if change.kind != "partial" and change.turn.final:
                finals[change.turn.key] = change.turn.text
        return "\n".join(finals[key] for key in sorted(finals))


class VirtualMicrophone:
    """A source factory capturing ``<sink>.monitor`` through PyAudio; keeps the captures."""

    def __init__(self, monitor: str) -> None:
        self.device = InputDevice(id=monitor, name=f"virtual {monitor}", host_api="PulseAudio",
                                  channels=1, default_rate=16000)
        self.captures: list[PyAudioCapture] = []

    def __call__(self, on_frame: FrameSink, on_level: LevelSink,
                 on_error: ErrorSink) -> AudioSource:
        capture = PyAudioCapture(self.device, on_frame=on_frame, on_level=on_level,
                                 on_error=on_error)
        self.captures.append(capture)
        return capture
