"""A recording of "Microphone + system audio" as two streams, labelled You and Others.

:class:`VoicesRecorder` is the :class:`RecordingRunner` the window and the headless mode use.
Given one source it is a plain :class:`Recorder`. Given a :class:`SourcePair` it runs one
:class:`Recorder` per stream, each with its own source, its own engine sessions (cloud: two
streaming sessions with the same key; Automatic: each falls back on its own) and its own
transcript model — so each stream keeps every guarantee of a single recording (held audio,
reconnect and catch-up, stop without losing the last words). Their changes are folded into the
one model the window reads by :class:`app.core.speakers.TwoVoices` (ordered by audio time, echo
kept once), and that model is what the autosave and journal follow.

Both streams' clocks start at the recording's start: each source starts when its recorder does,
within milliseconds of the other (both start at once, both open through the same thread pool).

Stop ends both; either stream failing for good (an error it cannot recover from) stops the other,
and the first error is the one reported.

Where two streams cannot go on — both voices fell back to Automatic's offline engine on a
machine with too few cores for two decoders, or an offline decoder falls behind the audio — the
recording goes on as one mixed stream, said in one sentence (the pair's ``switchable``, e.g.
app/io/audio/voice_taps.py): Others' stream finishes what it holds and ends, You's carries both
voices from then on, unlabelled (app/core/mixing.py decides).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from app.core.audio import FRAME_MS
from app.core.errors import ExportError, LiveTranscriberError
from app.core.mixing import MixReason, mixed_notice, reason_to_mix
from app.core.recording import (
    EngineFactory,
    NoticeKind,
    RecorderState,
    RecordingListener,
    RecordingNotice,
    SourceFactory,
    Waitable,
)
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import (
    OTHERS,
    YOU,
    SourcePair,
    SpeakerNames,
    Stream,
    TwoVoices,
    VoiceSwitch,
)
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.recorder import (
    AutosaveFactory,
    Recorder,
    RecorderOptions,
    open_autosave,
)

log = logging.getLogger(__name__)



class _StreamListener:
    """One stream's recorder reports here; the recording reports once, for both."""

    def __init__(self, owner: VoicesRecorder, stream: Stream) -> None:
        self._owner = owner
        self._stream = stream
        self.state = RecorderState.IDLE
        self.frames = 0  # 50 ms frames this stream's source delivered: its audio clock

    def on_state(self, state: RecorderState) -> None:
        self.state = state
        self._owner.stream_state_changed()

    def on_transcript(self, change: TranscriptChange) -> None:
        self._owner.stream_changed(self._stream, change)

    def on_level(self, level: Level) -> None:
        self._owner.stream_level(self._stream, self.frames * FRAME_MS, level)

    def on_error(self, error: LiveTranscriberError) -> None:
        self._owner.report(error)

    def on_session(self, session_id: str) -> None:
        self._owner.stream_began(self._stream, session_id)

    def on_notice(self, notice: RecordingNotice) -> None:
        self._owner.stream_notice(self._stream, notice)

    def counted(self, factory: SourceFactory) -> SourceFactory:
        def build(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
            def frame(pcm: bytes) -> None:
                self.frames += 1
                on_frame(pcm)
            return factory(frame, on_level, on_error)
        return build


class VoicesRecorder:
    """Runs one recording at a time, of one source or of a :class:`SourcePair`."""

    def __init__(self, model: TranscriptModel, listener: RecordingListener,
                 autosave_factory: AutosaveFactory | None = None,
                 options: RecorderOptions | None = None, *,
                 cpu_count: int | None = None) -> None:
        self._model = model
        # Decides whether an offline fallback can keep two decoders (None: this computer's).
        self._cpu_count = cpu_count if cpu_count is not None else os.cpu_count()
        self.listener = listener
        self._autosave_factory = autosave_factory
        self._options = options
        self._single = Recorder(model, listener, autosave_factory, options)
        self._pair: SourcePair | None = None
        self._voices: TwoVoices | None = None
        self._taps: VoiceSwitch | None = None
        self._fell_back: set[Stream] = set()  # voices now on Automatic's offline engine
        self._automatic = False  # the recording has an offline fallback (Automatic)
        self._streams: dict[Stream, _StreamListener] = {}
        self._recorders: dict[Stream, Recorder] = {}
        self._autosave: TranscriptAutosave | None = None
        self._levels: dict[Stream, Level] = {}
        self._error: LiveTranscriberError | None = None
        self._state = RecorderState.IDLE

    @property
    def state(self) -> RecorderState:
        return self._state if self._pair is not None else self._single.state

    @property
    def autosave_path(self) -> str | None:
        if self._pair is None:
            return self._single.autosave_path
        return str(self._autosave.path) if self._autosave is not None else None

    @property
    def dropped_frames(self) -> int:
        if self._pair is None:
            return self._single.dropped_frames
        return sum(r.dropped_frames for r in self._recorders.values())

    @property
    def lost_ms(self) -> int:
        if self._pair is None:
            return self._single.lost_ms
        return max((r.lost_ms for r in self._recorders.values()), default=0)

    @property
    def echoes(self) -> int:
        """Turns of the last two-stream recording heard on both streams and kept once."""
        return self._voices.echoes if self._voices is not None else 0

    async def room_for_audio(self) -> None:
        await self._single.room_for_audio()  # only files wait for room, and a file is one source

    async def record(self, source_factory: SourceFactory, engine_factory: EngineFactory,
                     stop: Waitable, fallback: EngineFactory | None = None,
                     ) -> LiveTranscriberError | None:
        if self.state is not RecorderState.IDLE:
            raise RuntimeError("a recording is already running")
        if not isinstance(source_factory, SourcePair):
            self._pair = None
            return await self._single.record(source_factory, engine_factory, stop, fallback)
        return await self._record_two(source_factory, engine_factory, stop, fallback)

    # --- two streams -----------------------------------------------------------------------

    async def _record_two(self, pair: SourcePair, engine_factory: EngineFactory, stop: Waitable,
                          fallback: EngineFactory | None) -> LiveTranscriberError | None:
        self._pair = pair
        self._error = None
        self._levels = {}
        # A segment of its own: this recording's audio times start at 0 again, and its turns
        # must follow whatever the transcript already holds.
        settled = self._model.begin_session()
        if settled is not None:
            self.listener.on_transcript(settled)
        self._voices = TwoVoices(self._model, pair.names)
        self._fell_back = set()
        self._automatic = fallback is not None
        self._taps = pair.switchable() if pair.switchable is not None else None
        you = self._taps.tap(YOU) if self._taps is not None else pair.you
        others = self._taps.tap(OTHERS) if self._taps is not None else pair.others
        self._streams = {s: _StreamListener(self, s) for s in (YOU, OTHERS)}
        self._recorders = {s: Recorder(TranscriptModel(), self._streams[s], None, self._options)
                           for s in (YOU, OTHERS)}
        self._open_autosave()
        ending = asyncio.Event()  # Stop, or either voice failing for good, ends both

        async def run(stream: Stream, factory: SourceFactory) -> None:
            try:
                error = await self._recorders[stream].record(
                    self._streams[stream].counted(factory), engine_factory, ending, fallback)
            except BaseException:
                ending.set()
                raise
            if error is not None:
                ending.set()  # this voice cannot go on: end the other one too
            # Ended without an error: Stop, or a file source played to its end (the other
            # voice's file may still be playing, so it is not stopped).

        async def forward_stop() -> None:
            await stop.wait()
            ending.set()

        stopper = asyncio.create_task(forward_stop(), name="voices-stop")
        try:
            await asyncio.gather(run(YOU, you), run(OTHERS, others))
        finally:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            if self._autosave is not None:
                await asyncio.to_thread(self._autosave.close)
            self.stream_state_changed()
        return self._error

    @property
    def mixed(self) -> bool:
        """Whether the last two-stream recording went on as one mixed stream."""
        return self._taps is not None and self._taps.mixed

    def stream_notice(self, stream: Stream, notice: RecordingNotice) -> None:
        name = self.names_of(stream)
        self.listener.on_notice(RecordingNotice(notice.kind, f"{name}: {notice.text}"))
        if notice.kind is NoticeKind.FALLBACK:
            self._fell_back.add(stream)
        # Without a fallback, a voice's engine that reports its pace is the offline engine
        # the whole recording runs on (the cloud never does): both voices are offline.
        offline = 2 if not self._automatic else len(self._fell_back)
        reason = reason_to_mix(offline_voices=offline, cpu_count=self._cpu_count,
                               behind=stream if notice.kind is NoticeKind.BEHIND else None)
        if reason is not None:
            self.mix(reason)

    def mix(self, reason: MixReason) -> bool:
        """Go on as one mixed stream (see the module docstring); False if it already is."""
        if self._taps is None or self._voices is None:
            return False
        at_ms = self._taps.mix()
        if at_ms is None:
            return False
        self._voices.mix_from(at_ms)
        log.info("two voices mixed into one stream from %d ms: %s", at_ms, reason.value)
        # Said as what caused it, so the window's engine status reads the same as before it.
        kind = NoticeKind.BEHIND if reason is MixReason.BEHIND else NoticeKind.FALLBACK
        self.listener.on_notice(RecordingNotice(kind, mixed_notice(reason)))
        return True

    def names_of(self, stream: Stream) -> str:
        return (self._pair.names if self._pair is not None else SpeakerNames()).of(stream)

    def stream_changed(self, stream: Stream, change: TranscriptChange) -> None:
        assert self._voices is not None
        for merged in self._voices.apply(stream, change):
            if self._autosave is not None:
                self._autosave.apply(merged, self._model.finals)
            self.listener.on_transcript(merged)

    def stream_began(self, stream: Stream, session_id: str) -> None:
        """A voice's engine session began: the merged journal names its engine."""
        recorder = self._recorders.get(stream)
        name = recorder.engine_name if recorder is not None else None
        if self._autosave is not None and name is not None:
            self._autosave.note_engine(name)
        self.listener.on_session(session_id)

    def stream_level(self, stream: Stream, at_ms: int, level: Level) -> None:
        if self._voices is not None:
            self._voices.levels[stream].add(at_ms, level.rms_dbfs)
        self._levels[stream] = level
        if self.mixed:
            self._levels.pop(OTHERS, None)  # You's stream carries both now
        # One meter for both: it shows whichever is louder, so either voice moves it.
        self.listener.on_level(max(self._levels.values(), key=lambda lv: lv.rms_dbfs))

    def stream_state_changed(self) -> None:
        # A voice whose file has been played to its end is idle while the other still
        # records: the recording is what the voices still running are doing.
        running = [listener.state for listener in self._streams.values()
                   if listener.state is not RecorderState.IDLE]
        if not running:
            state = RecorderState.IDLE
        elif all(s is RecorderState.STOPPING for s in running):
            state = RecorderState.STOPPING
        elif any(s is RecorderState.STARTING for s in running):
            state = RecorderState.STARTING
        else:
            state = RecorderState.RECORDING
        if state is not self._state:
            self._state = state
            self.listener.on_state(state)

    def report(self, error: LiveTranscriberError) -> None:
        if isinstance(error, ExportError):
            self.listener.on_error(error)  # autosave trouble does not end the recording
        elif self._error is None:
            self._error = error
            self.listener.on_error(error)
        else:
            log.info("further error after the first: %s", type(error).__name__)

    def _open_autosave(self) -> None:
        self._autosave = open_autosave(self._autosave_factory, self.report)

