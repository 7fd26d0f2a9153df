"""The I/O the window's controller drives, handed in by the composition root
(``app/wiring.py``): the controller imports nothing from ``app.io``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings
from app.core.devices import DeviceProvider, InputDevice
from app.core.history import HistoryStore
from app.core.journal import RecoveryStore
from app.core.ports import KeyCheck, OfflineEngines, SecretStore
from app.core.recording import EngineFactory, RecordingListener, RecordingRunner, SourceFactory
from app.core.transcript import TranscriptModel


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
