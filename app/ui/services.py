"""The I/O the window's controller drives, handed in by the composition root
(``app/wiring.py``): the controller imports nothing from ``app.io``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.core.config import Settings
from app.core.devices import DeviceProvider, InputDevice
from app.core.history import HistoryStore
from app.core.journal import RecoveryStore
from app.core.messages import Turn
from app.core.ports import KeyCheck, OfflineEngines, SecretStore
from app.core.recording import EngineFactory, RecordingListener, RecordingRunner, SourceFactory
from app.core.transcript import TranscriptModel, TranscriptTurn

ProgressSink = Callable[[int, int | None], None]  # position in the file, its length (ms)
StageSink = Callable[[str, int | None], None]  # a sentence, and a percentage when there is one


@dataclass
class FileServices:
    """What transcribing an audio or video file needs (File > Open, drag and drop)."""

    probe: Callable[[Path], None]  # blocking; raises AudioError when the file is unusable
    # The file as an audio source decoded as fast as ``room`` allows, reporting progress.
    make_source: Callable[[Path, ProgressSink, Callable[[], Awaitable[None]]], SourceFactory]
    # Upload to the pre-recorded API, wait for the transcript: (path, key, settings, stage).
    transcribe_in_cloud: Callable[[Path, str, Settings, StageSink], Awaitable[list[Turn]]]
    keep: Callable[[Sequence[TranscriptTurn], datetime], None]  # blocking: into the history
    discard: Callable[[str], None]  # blocking: remove a failed file's autosave (its path)


@dataclass
class Services:
    """The I/O the controller drives, built by the composition root."""

    secret_store: SecretStore
    device_provider: DeviceProvider
    validate_key: Callable[[str, Settings], Awaitable[KeyCheck]]
    make_source: Callable[[InputDevice | None], SourceFactory]
    make_engine: Callable[[str, Settings], EngineFactory]
    make_recorder: Callable[[TranscriptModel, RecordingListener], RecordingRunner]
    write_file: Callable[[Path, str], None]  # blocking; raises ExportError
    offline: OfflineEngines
    env_key: str | None = None  # ASSEMBLYAI_API_KEY: wins over the keyring (policy.key_in_use)
    recovery: RecoveryStore | None = None  # the journals a crash left behind
    history: HistoryStore | None = None  # every recording, for the History window
    files: FileServices | None = None  # audio and video files (File > Open, drop)
