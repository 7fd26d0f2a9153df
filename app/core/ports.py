"""Ports: the interfaces ``app/io`` implements and ``app/ui`` drives, so neither side knows the
other's concrete classes (the composition root in ``app/main.py`` wires them)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.core.config import Settings
from app.core.errors import LiveTranscriberError
from app.core.messages import Begin, Termination, Turn
from app.core.session import SessionState


@dataclass(frozen=True)
class StateChanged:
    old: SessionState
    new: SessionState


@dataclass(frozen=True)
class SessionFailed:
    """The session ended with an error; the transcript so far stays as it is."""

    error: LiveTranscriberError


@dataclass(frozen=True)
class PaceChanged:
    """The engine changed how much live work it does to keep up with the audio (offline
    engine on a busy computer). ``behind_ms``: how far recognition was behind the audio when
    it changed; ``gave_up``: one sentence for the person ("" once it is back to full pace).
    Final turns still come for all audio: only the words in progress update less often."""

    behind_ms: int
    gave_up: str


EngineEvent = Begin | Turn | Termination | StateChanged | SessionFailed | PaceChanged
EventSink = Callable[[EngineEvent], None]


class TranscriptionEngine(Protocol):
    """One recording's worth of speech-to-text, cloud or offline.

    ``send_audio`` takes 16 kHz mono s16le bytes of any length and never blocks; events reach
    the owner through the sink given at construction, on the owner's event loop thread.
    """

    @property
    def state(self) -> SessionState: ...

    @property
    def error(self) -> LiveTranscriberError | None:
        """The error the session ended with, once it failed."""

    async def start(self) -> None:
        """Connect (or load) and return once audio is being transcribed; raises typed errors."""

    def send_audio(self, pcm: bytes) -> None: ...

    async def room_for_audio(self, max_queued_ms: int) -> None:
        """Return once fewer than ``max_queued_ms`` of audio wait inside the engine (or it
        has ended): feeding through this never makes a bounded queue drop audio."""

    async def stop(self) -> None:
        """Flush the last words, end the session and release everything; never raises."""

    async def wait_closed(self) -> None:
        """Return when the session has ended; raise its error if it failed."""


class KeyStatus(enum.Enum):
    VALID = "valid"
    REJECTED = "rejected"
    NO_CREDIT = "no-credit"
    RATE_LIMITED = "rate-limited"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class KeyCheck:
    status: KeyStatus
    error: LiveTranscriberError | None = None


class SecretStore(Protocol):
    """Where the API key lives. Methods block (D-Bus, OS APIs): call them off the UI thread."""

    @property
    def persistent(self) -> bool:
        """False when the key is kept for this session only (no OS keyring)."""

    @property
    def description(self) -> str:
        """Where the key is kept, in words a person understands."""

    def load(self) -> str | None: ...

    def save(self, secret: str) -> None: ...

    def delete(self) -> None: ...


@dataclass(frozen=True)
class OfflineModelInfo:
    name: str  # "tiny.en", "base.en", …
    description: str
    size_bytes: int
    bundled: bool  # ships with the app
    installed: bool  # usable now (bundled, or downloaded and complete)
    multilingual: bool = False  # hears 99 languages and can translate (else English only)


class OfflineEngines(Protocol):
    """The offline engine: engines on the chosen model, preloading it, the models a person can
    choose, and downloading the optional ones."""

    def engine_for(self, settings: Settings, *, whole_file: bool = False
                   ) -> Callable[[EventSink], TranscriptionEngine]:
        """Engines on ``settings.offline_model`` (the bundled model when it is missing);
        ``whole_file``: a file read faster than real time, so no words in progress (finals
        only: each sentence is decoded once, the file goes faster)."""

    async def preload(self, settings: Settings) -> None:
        """Verify and load the chosen model now (about a second); raises typed errors."""

    def list_models(self) -> list[OfflineModelInfo]:
        """Blocks briefly (file checks): call it off the UI thread."""

    async def download(self, name: str, progress: Callable[[int, int], None],
                       cancel: CancelFlag) -> bool:
        """Fetch and verify model ``name``; False when cancelled. Raises typed errors."""


class CancelFlag(Protocol):
    """An ``asyncio.Event`` as seen from here (core does not import asyncio)."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...
