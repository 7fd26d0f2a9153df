"""The window's one controller: owns the recording task and turns what happens into signals.

Widgets never start tasks or touch I/O; they call the controller's slots and render its
signals. The controller gets every I/O object handed in (:class:`Services`), so it imports
nothing from ``app.io`` — the composition root (``app/main.py``) wires the concrete classes.

Blocking work (keyring, device scan, file save) runs in worker threads via
``asyncio.to_thread``; the recording itself is one ``asyncio.Task`` owned here and cancelled
or stopped cleanly on Stop and on quit.

The API key and engine choice (``app/ui/key_actions.py``) and the input devices
(``app/ui/device_actions.py``) are mixins of this one class: same object, same signals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.core import auth, policy
from app.core.auth import AuthStatus
from app.core.config import EngineChoice, Settings
from app.core.devices import InputDevice
from app.core.errors import LiveTranscriberError
from app.core.export import Format, render
from app.core.history import HistoryStore
from app.core.journal import RecoveryStore
from app.core.messages import Turn
from app.core.policy import EngineStatus, Link, Message, Severity, Surface
from app.core.ports import OfflineEngines
from app.core.recording import (
    EngineFactory,
    NoticeKind,
    RecorderState,
    RecordingNotice,
    SourceFactory,
)
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import SourcePair, SpeakerNames, sources_for
from app.core.transcript import TranscriptChange, TranscriptModel, TranscriptTurn
from app.ui.device_actions import DeviceActions
from app.ui.key_actions import KeyActions
from app.ui.model_downloads import ModelDownloads
from app.ui.services import FileServices, Services, StageSink
from app.ui.tasks import TaskOwner

log = logging.getLogger(__name__)


class AppController(KeyActions, DeviceActions, TaskOwner):
    """The recording, the files' hooks and the signals; the key and engine choice are in
    :class:`KeyActions` (app/ui/key_actions.py), the devices in :class:`DeviceActions`."""

    state_changed = Signal(object)  # RecorderState
    transcript_changed = Signal(object)  # TranscriptChange (one step)
    transcript_reset = Signal()
    level_changed = Signal(float, float)  # rms dBFS, peak dBFS
    auth_changed = Signal(object)  # AuthStatus
    error_changed = Signal(str)  # last error as a sentence; "" clears
    message_changed = Signal(str, object)  # slot ("error", "notice"), policy.Message or None
    engine_status_changed = Signal(object)  # policy.EngineStatus: where the audio goes
    devices_changed = Signal(object, object)  # list[InputDevice], DeviceChoice
    session_changed = Signal(str)
    notice_changed = Signal(object)  # RecordingNotice: reconnecting, reconnected, fallback
    autosave_changed = Signal(str)
    dropped_changed = Signal(int)

    def __init__(self, model: TranscriptModel, services: Services, settings: Settings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.settings = settings
        self._services = services
        self._recorder = services.make_recorder(model, self)
        self._key: str | None = None
        self._stored = False  # a key is in the secret store (Delete has something to delete)
        self._auth = auth.no_key()
        self._devices: list[InputDevice] = []
        self._device: InputDevice | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[LiveTranscriberError | None] | None = None
        self._started_at: float | None = None
        self._source_stats: AudioSource | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fallback_active = False  # Automatic went offline during this recording
        self.downloads = ModelDownloads(services.offline, self.spawn, self)
        self._link = Link.NORMAL
        self.unsaved = False
        self.recording_started: datetime | None = None  # wall clock, for the Save name
        self.file_busy = False  # a file is with the pre-recorded API: no recording meanwhile

    # --- read-only state for the window -------------------------------------------------

    @property
    def state(self) -> RecorderState:
        return self._recorder.state

    @property
    def auth_status(self) -> AuthStatus:
        return self._auth

    @property
    def has_key(self) -> bool:
        return self._key is not None

    @property
    def has_stored_key(self) -> bool:
        return self._stored

    @property
    def engine(self) -> EngineChoice:
        """CLOUD or OFFLINE: what the next recording uses (or would, once a key is set)."""
        if self._fallback_active:
            return EngineChoice.OFFLINE
        return self._plan().engine or EngineChoice.CLOUD

    @property
    def engine_status(self) -> EngineStatus:
        """Where the audio goes (or would, on Start), with the key's state for the cloud."""
        return policy.engine_status(self.engine, self.settings.region,
                                    self.settings.offline_model, self._auth, self._link)

    @property
    def recovery(self) -> RecoveryStore | None:
        return self._services.recovery

    @property
    def history(self) -> HistoryStore | None:
        return self._services.history

    @property
    def offline_models(self) -> OfflineEngines:
        return self._services.offline

    @property
    def store_description(self) -> str:
        return self._services.secret_store.description

    @property
    def env_key_in_use(self) -> bool:
        return self._services.env_key is not None

    @property
    def key_is_session_only(self) -> bool:
        return not self._services.secret_store.persistent

    @property
    def elapsed_seconds(self) -> float:
        return 0.0 if self._started_at is None else time.monotonic() - self._started_at

    @property
    def dropped_frames(self) -> int:
        return self._source_stats.dropped_frames if self._source_stats is not None else 0

    # --- start-up and shutdown ------------------------------------------------------------

    async def initialize(self) -> None:
        """Load the key (off the UI thread), check it, list devices, watch for hot-plug."""
        self._loop = asyncio.get_running_loop()
        await asyncio.gather(self._load_key(), self.refresh_devices())
        try:
            await asyncio.to_thread(self._services.device_provider.start_watching,
                                    self._devices_changed_elsewhere)
        except LiveTranscriberError as exc:  # no sound server: the list just won't follow
            log.warning("device hot-plug unavailable: %s", exc)

    async def shutdown(self) -> None:
        """Stop a recording (keeping its last words), stop watching devices, end tasks."""
        self.stop_recording()
        self.downloads.cancel()
        if self._task is not None:
            await self._task
        await asyncio.to_thread(self._services.device_provider.stop_watching)
        await self.cancel_tasks()

    # --- recording ------------------------------------------------------------------------

    def toggle_recording(self) -> None:
        if self.state is RecorderState.IDLE:
            self.start_recording()
        elif self.state in (RecorderState.STARTING, RecorderState.RECORDING):
            self.stop_recording()

    def start_recording(self) -> None:
        if self.state is not RecorderState.IDLE or self._task is not None or self.file_busy:
            return
        plan = self._plan()
        if plan.engine is None:
            self._set_error(policy.refusal_message(plan))
            self._set_auth(auth.no_key(session_only=self.key_is_session_only))
            return
        fallback: EngineFactory | None = None
        if plan.engine is EngineChoice.OFFLINE:
            engine = self._services.offline.engine_for(self.settings)
        else:
            assert self._key is not None  # the plan runs the cloud only with a key
            engine = self._services.make_engine(self._key, self.settings)
            if plan.fallback:
                fallback = self._services.offline.engine_for(self.settings)
        self._set_error(None)
        self.message_changed.emit("notice", None)
        self._back_to_plan()
        self._stop = asyncio.Event()
        offline = plan.engine is EngineChoice.OFFLINE
        self._task = asyncio.create_task(self._record(engine, fallback, offline=offline),
                                         name="recording")

    def stop_recording(self) -> None:
        self._stop.set()

    async def _record(self, engine: EngineFactory, fallback: EngineFactory | None, *,
                      offline: bool = False, source: SourceFactory | None = None
                      ) -> LiveTranscriberError | None:
        names = SpeakerNames(self.settings.speaker_you, self.settings.speaker_others)
        source_factory, notice = (source, None) if source is not None else sources_for(
            self._services.make_source(self._device), names, offline=offline,
            cpu_count=os.cpu_count())
        if notice is not None:  # "Microphone + system audio" as one mixed stream
            self.message_changed.emit("notice", Message(Severity.WARNING, notice))

        def tracked_source(on_frame: FrameSink, on_level: LevelSink,
                           on_error: ErrorSink) -> AudioSource:
            self._source_stats = source_factory(on_frame, on_level, on_error)
            return self._source_stats

        recorded = source_factory if isinstance(source_factory, SourcePair) else tracked_source
        try:
            return await self._recorder.record(recorded, engine, self._stop, fallback)
        finally:
            self._task = None
            self._started_at = None

    # --- files (app/ui/file_flow.py drives these) ------------------------------------------

    @property
    def files(self) -> FileServices | None:
        return self._services.files

    @property
    def autosave_path(self) -> str | None:
        return self._recorder.autosave_path

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    async def room_for_audio(self) -> None:
        await self._recorder.room_for_audio()

    async def record_file(self, source: SourceFactory) -> LiveTranscriberError | None:
        """A file through the recording pipeline on the offline engine; returns its error."""
        assert self.state is RecorderState.IDLE and self._task is None
        self._set_error(None)
        self._stop = asyncio.Event()
        task = asyncio.create_task(self._record(self._services.offline.engine_for(
            self.settings, whole_file=True), None, offline=True, source=source),
            name="file-recording")
        self._task = task  # owned here, like a recording
        await asyncio.wait({task})  # a cancelled caller leaves the recording to shutdown()
        return task.result()

    def show_file_engine(self, *, fallback: bool) -> None:
        """The status line names what transcribes a file: the engine the settings choose, or
        "Offline fallback" when Automatic could not reach AssemblyAI (the next file or Start
        tries the cloud again)."""
        if not fallback:
            self._back_to_plan()
            return
        self._fallback_active = True
        self._link = Link.FALLBACK
        self._set_auth(policy.status_after_fallback())

    async def transcribe_in_cloud(self, path: Path, on_stage: StageSink) -> list[Turn]:
        assert self._key is not None and self._services.files is not None
        return await self._services.files.transcribe_in_cloud(path, self._key, self.settings,
                                                              on_stage)

    # --- RecordingListener (called by the recorder on the loop thread) ---------------------

    def on_state(self, state: RecorderState) -> None:
        if state is RecorderState.RECORDING:
            self._started_at = time.monotonic()
            if self.recording_started is None or self.model.is_empty:
                self.recording_started = datetime.now()
            status = policy.status_after_start(self.engine, self._auth,
                                               session_only=self.key_is_session_only)
            if status != self._auth:
                self._set_auth(status)
        elif state is RecorderState.STARTING and self._recorder.autosave_path:
            self.autosave_changed.emit(self._recorder.autosave_path)
        self.state_changed.emit(state)

    def on_transcript(self, change: TranscriptChange) -> None:
        if change.kind != "partial":
            self.unsaved = True
        self.transcript_changed.emit(change)

    def on_level(self, level: Level) -> None:
        self.level_changed.emit(level.rms_dbfs, level.peak_dbfs)
        dropped = self.dropped_frames
        if dropped:
            self.dropped_changed.emit(dropped)

    def on_error(self, error: LiveTranscriberError) -> None:
        self._set_error(policy.error_message(error, self.engine))
        status = policy.status_after_error(error, self.engine, self._auth,
                                           session_only=self.key_is_session_only)
        if status != self._auth:
            self._set_auth(status)

    def on_session(self, session_id: str) -> None:
        self.session_changed.emit(session_id)

    def on_notice(self, notice: RecordingNotice) -> None:
        self._link = policy.link_after(notice.kind, self._link)
        if notice.kind is NoticeKind.FALLBACK:
            self._fallback_active = True
            self._set_auth(policy.status_after_fallback())
        self._emit_engine_status()
        self.notice_changed.emit(notice)
        self.message_changed.emit("notice", policy.notice_message(notice))

    # --- settings --------------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """New service options; they apply from the next recording."""
        self.settings = replace(settings, device_id=self.settings.device_id,
                                streaming_url_override=self.settings.streaming_url_override)
        self._emit_engine_status()

    # --- transcript -----------------------------------------------------------------------

    async def save_transcript(self, path: Path, fmt: Format) -> None:
        """Write the finished turns in ``fmt``; raises :class:`ExportError` for the window."""
        await self.export_turns(path, fmt, self.model.finals)
        self.unsaved = False

    async def export_turns(self, path: Path, fmt: Format, turns: Sequence[TranscriptTurn]
                           ) -> None:
        """Write ``turns`` (e.g. an earlier recording's) in ``fmt``; raises ExportError."""
        await asyncio.to_thread(self._services.write_file, path, render(fmt, turns))

    def clear_transcript(self) -> None:
        self.model.clear()
        self.unsaved = False
        self.recording_started = None
        self.transcript_reset.emit()

    def restore_turns(self, turns: list[TranscriptTurn]) -> None:
        """A recovered recording's turns into the empty transcript (its file is on disk)."""
        self.model.restore(turns)
        self.unsaved = False
        self.transcript_reset.emit()

    # --- helpers --------------------------------------------------------------------------

    def _plan(self) -> policy.EnginePlan:
        return policy.plan_engine(self.settings.engine, self.has_key, Surface.WINDOW)

    def task_failed(self, error: BaseException) -> None:
        if isinstance(error, LiveTranscriberError):
            self.on_error(error)
        else:
            log.error("background task failed", exc_info=error)
            self._set_error(Message(Severity.ERROR, "Something went wrong inside Live "
                                    "Transcriber; details are in its log. Try again."))

    def _back_to_plan(self) -> None:
        """The engine the settings choose again, after an earlier fallback."""
        self._fallback_active = False
        self._link = Link.NORMAL
        self._emit_engine_status()
        if self._auth.text == policy.status_after_fallback().text:
            self.spawn(self.refresh_auth())  # back to the cloud after last time's fallback

    def _set_auth(self, status: AuthStatus) -> None:
        self._auth = status
        self.auth_changed.emit(status)
        self._emit_engine_status()

    def _emit_engine_status(self) -> None:
        self.engine_status_changed.emit(self.engine_status)

    def _set_error(self, message: Message | None) -> None:
        self.error_changed.emit("" if message is None else message.text)
        self.message_changed.emit("error", message)

