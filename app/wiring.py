"""Concrete classes for the ports, shared by the window and the headless modes.

Part of the composition root (with ``app/main.py`` and ``app/headless.py``): the only modules
that name ``app.io`` classes for ``app.ui`` to use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from app.core.config import EngineChoice, Settings
from app.core.devices import BOTH, InputDevice
from app.core.errors import ExportError
from app.core.messages import Turn
from app.core.ports import EventSink, KeyCheck
from app.core.prerecorded import api_base
from app.core.recording import EngineFactory, RecordingListener, SourceFactory
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import SourcePair
from app.core.transcript import TranscriptModel, TranscriptTurn
from app.io.audio.capture import PyAudioCapture
from app.io.audio.decoded_source import DecodedFileSource, ProgressSink
from app.io.audio.file_source import WavFileSource
from app.io.audio.mixed_source import MixedSource
from app.io.audio.voice_taps import VoiceTaps
from app.io.cloud.prerecorded import PrerecordedClient, StageSink
from app.io.cloud.session import StreamingSession
from app.io.cloud.tokens import validate_key
from app.io.devices.platform import default_provider
from app.io.offline.catalog import ModelCatalog
from app.io.offline.store import OfflineModels
from app.io.recording.autosave import TranscriptAutosave, autosave_name
from app.io.recording.files import write_text_atomic
from app.io.recording.history import HistoryFolder, discard_recording
from app.io.recording.journal import JournalFolder
from app.io.recording.two_streams import VoicesRecorder
from app.io.secrets import open_secret_store
from app.ui.services import FileServices, Services

APP_NAME = "live-transcriber"


def microphone(device: InputDevice | None) -> SourceFactory:
    """The chosen input; for "Microphone + system audio" a :class:`SourcePair` of its two."""
    if device is not None and device.kind == BOTH and len(device.parts) == 2:
        you, others = microphone(device.parts[0]), microphone(device.parts[1])

        def mixed(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
            return MixedSource((you, others), on_frame=on_frame, on_level=on_level,
                               on_error=on_error)
        return SourcePair(you=you, others=others, mixed=mixed,
                          switchable=lambda: VoiceTaps(you, others))

    def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
        return PyAudioCapture(device, on_frame=on_frame, on_level=on_level, on_error=on_error)
    return build


def wav_file(path: Path, *, realtime: bool = True,
             room: Callable[[], Awaitable[None]] | None = None,
             ) -> Callable[[FrameSink, LevelSink, ErrorSink], WavFileSource]:
    def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> WavFileSource:
        return WavFileSource(path, on_frame=on_frame, on_level=on_level, on_error=on_error,
                             realtime=realtime, room=room)
    return build


def media_file(path: Path, *, realtime: bool = True,
               room: Callable[[], Awaitable[None]] | None = None,
               on_progress: ProgressSink | None = None,
               ) -> Callable[[FrameSink, LevelSink, ErrorSink], DecodedFileSource]:
    """Any common audio or video file (decoded with PyAV), as an audio source."""
    def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink
              ) -> DecodedFileSource:
        return DecodedFileSource(path, on_frame=on_frame, on_level=on_level, on_error=on_error,
                                 on_progress=on_progress, realtime=realtime, room=room)
    return build


def probe_media_file(path: Path) -> None:
    """Raise the file's :class:`AudioError` now if it cannot be transcribed (blocking)."""
    # PyAV (~20 MB resident) loads with the first file, not with every start of the app.
    from app.io.audio.decoder import open_media_file

    open_media_file(path).close()


def cloud_file(env: Mapping[str, str]
               ) -> Callable[[Path, str, Settings, StageSink], Awaitable[list[Turn]]]:
    """A file through AssemblyAI's pre-recorded API (``LIVE_TRANSCRIBER_API_URL`` points it
    elsewhere, e.g. at the local emulator)."""
    async def transcribe(path: Path, key: str, settings: Settings, on_stage: StageSink
                         ) -> list[Turn]:
        client = PrerecordedClient(api_base(settings.region, env), key)
        return await client.transcribe(path, on_stage)
    return transcribe


def keep_turns(folder: Path) -> Callable[[Sequence[TranscriptTurn], datetime], None]:
    """Finished turns of AssemblyAI's pre-recorded API written as one recording in ``folder``
    (the History lists it, as the cloud's)."""
    def keep(turns: Sequence[TranscriptTurn], started: datetime) -> None:
        errors: list[ExportError] = []
        autosave = TranscriptAutosave(folder / autosave_name(started), errors.append,
                                      started=started, engine=EngineChoice.CLOUD.value)
        model = TranscriptModel()
        for turn in turns:
            autosave.apply(model.place_final(turn), model.finals)
        autosave.close()
        if errors:
            raise errors[0]
    return keep


def file_services(autosave_folder: Path, env: Mapping[str, str]) -> FileServices:
    def make_source(path: Path, on_progress: ProgressSink,
                    room: Callable[[], Awaitable[None]]) -> SourceFactory:
        return media_file(path, realtime=False, room=room, on_progress=on_progress)
    return FileServices(probe=probe_media_file, make_source=make_source,
                        transcribe_in_cloud=cloud_file(env), keep=keep_turns(autosave_folder),
                        discard=discard_recording)


def cloud_engine(key: str, settings: Settings) -> EngineFactory:
    def build(sink: EventSink) -> StreamingSession:
        return StreamingSession(settings.endpoints(), key, settings.streaming_params(), sink,
                                auth_mode=settings.auth_mode)
    return build


def offline_models(data: Path) -> OfflineModels:
    """The bundled model plus the optional ones, downloaded under ``data/models``."""
    return OfflineModels(ModelCatalog.default(), data / "models")


async def check_key(key: str, settings: Settings) -> KeyCheck:
    return await validate_key(settings.endpoints().token_url, key)


def recorder_factory(autosave_folder: Path | None
                     ) -> Callable[[TranscriptModel, RecordingListener], VoicesRecorder]:
    def autosave(started: datetime,
                 on_error: Callable[[ExportError], None]) -> TranscriptAutosave:
        assert autosave_folder is not None
        return TranscriptAutosave(autosave_folder / autosave_name(started), on_error,
                                  started=started)

    def build(model: TranscriptModel, listener: RecordingListener) -> VoicesRecorder:
        return VoicesRecorder(model, listener,
                              autosave if autosave_folder is not None else None)
    return build


def services(autosave_folder: Path, env_key: str | None) -> Services:
    """Everything the window's controller drives. Blocks briefly (keyring and sound-server
    probes): call before the window shows, or via ``asyncio.to_thread``."""
    models = offline_models(autosave_folder.parent)
    return Services(
        secret_store=open_secret_store(),
        device_provider=default_provider(),
        validate_key=check_key,
        make_source=microphone,
        make_engine=cloud_engine,
        make_recorder=recorder_factory(autosave_folder),
        write_file=write_text_atomic,
        env_key=env_key,
        offline=models,
        recovery=JournalFolder(autosave_folder),
        history=HistoryFolder(autosave_folder),
        files=file_services(autosave_folder, os.environ),
    )


def data_folder() -> Path:
    """Where transcripts are autosaved when Qt is not running (the headless modes); the same
    place as Qt's ``QStandardPaths.AppDataLocation`` for this app on each platform."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / APP_NAME
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / APP_NAME
