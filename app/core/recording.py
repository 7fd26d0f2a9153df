"""The recording's life cycle as the window and the headless mode see it, and the listener
port through which a recording reports. Pure: no asyncio, no Qt."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.core.errors import LiveTranscriberError
from app.core.ports import EventSink, TranscriptionEngine
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import TranscriptChange


class RecorderState(enum.Enum):
    IDLE = "idle"
    STARTING = "starting"  # opening the microphone and connecting; audio is already buffered
    RECORDING = "recording"
    STOPPING = "stopping"  # flushing the last audio and waiting for the final words

    @property
    def busy(self) -> bool:
        """Start/Stop cannot be pressed: the last words are being flushed. (While STARTING,
        Stop cancels the pending connect at once.)"""
        return self is RecorderState.STOPPING


class RecordingListener(Protocol):
    """Everything a recording reports, always on the event loop's thread."""

    def on_state(self, state: RecorderState) -> None: ...

    def on_transcript(self, change: TranscriptChange) -> None: ...

    def on_level(self, level: Level) -> None: ...

    def on_error(self, error: LiveTranscriberError) -> None: ...

    def on_session(self, session_id: str) -> None: ...

    def on_notice(self, notice: RecordingNotice) -> None: ...


SourceFactory = Callable[[FrameSink, LevelSink, ErrorSink], AudioSource]
EngineFactory = Callable[[EventSink], TranscriptionEngine]


class RecordingRunner(Protocol):
    """Runs one recording at a time (implemented by ``app.io.recording.recorder.Recorder``)."""

    @property
    def state(self) -> RecorderState: ...

    @property
    def autosave_path(self) -> str | None: ...

    async def record(self, source_factory: SourceFactory, engine_factory: EngineFactory,
                     stop: Waitable, fallback: EngineFactory | None = None,
                     ) -> LiveTranscriberError | None: ...

    async def room_for_audio(self) -> None:
        """Return once the recording can take more audio without dropping any: a file source
        awaits it before each read (back-pressure); a live source never waits."""


class Waitable(Protocol):
    """An ``asyncio.Event`` as seen from here (core does not import asyncio)."""

    def is_set(self) -> bool: ...

    async def wait(self) -> object: ...


class NoticeKind(enum.Enum):
    RECONNECTING = "reconnecting"  # the engine session ended; a new one is being opened
    RECONNECTED = "reconnected"  # streaming again; the held audio is being caught up
    FALLBACK = "fallback"  # Automatic: the offline engine continues this recording
    AUDIO_LOST = "audio-lost"  # some audio could not reach any engine (said, never hidden)
    BEHIND = "behind"  # the offline engine updates words in progress less often to keep up
    CAUGHT_UP = "caught-up"  # back to full pace


@dataclass(frozen=True)
class RecordingNotice:
    """Something the person should know while the recording goes on: one plain sentence."""

    kind: NoticeKind
    text: str
