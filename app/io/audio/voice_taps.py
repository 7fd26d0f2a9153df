"""The two sources of "Microphone + system audio", switchable mid-recording to one mixed stream.

:class:`VoiceTaps` (the :class:`app.core.speakers.VoiceSwitch` port) owns the two real sources
of a ``SourcePair`` and hands each stream's
recorder a *tap*: an :class:`AudioSource` that delivers its stream's frames. When two streams
can no longer run (Automatic fell back to the offline engine on a machine with too few cores,
or two offline decoders fell behind), :meth:`VoiceTaps.mix` switches without stopping either
device, so no audio is lost:

* the Others tap ends at that moment: its recorder transcribes what it still holds (its engine
  catches up, says its last words) and ends by itself, as after a file's end;
* the You tap goes on, its audio clock unbroken, delivering the sum of both devices' frames
  (paired by moment, clipped: :mod:`app.core.mixing`). Its turns from then on are the mixed
  stream's, unlabelled (:meth:`app.core.speakers.TwoVoices.mix_from`).

Everything runs on the event loop's thread (the sources deliver there).
"""

from __future__ import annotations

import asyncio

from app.core.audio import FRAME_MS
from app.core.errors import AudioError
from app.core.mixing import FrameAligner
from app.core.recording import SourceFactory
from app.core.signal import Level
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import OTHERS, YOU, Stream
from app.io.audio.level import level_of
from app.io.audio.mixed_source import mix_s16
from app.io.waiting import first_of

_PART = {YOU: 0, OTHERS: 1}


class VoiceTaps:
    """One tap per stream over the pair's two real sources (see the module docstring)."""

    def __init__(self, you: SourceFactory, others: SourceFactory, *,
                 max_skew_frames: int = 10) -> None:
        self._factories = {YOU: you, OTHERS: others}
        self._aligner = FrameAligner(max_skew_frames)
        self._taps: dict[Stream, _Tap] = {}
        self.mixed = False

    def tap(self, stream: Stream) -> SourceFactory:
        return _TapFactory(self, stream)

    def mix(self) -> int | None:
        """Switch to one mixed stream; You's audio time (ms) where the mix begins, or None
        when it cannot (already mixed, or a stream is not running: nothing to switch)."""
        you, others = self._taps.get(YOU), self._taps.get(OTHERS)
        if self.mixed or you is None or others is None or you.closed or others.closed:
            return None
        self.mixed = True
        others.end()
        return you.delivered * FRAME_MS

    # --- from the real sources --------------------------------------------------------------

    def build(self, stream: Stream, on_frame: FrameSink, on_level: LevelSink,
              on_error: ErrorSink) -> _Tap:
        tap = _Tap(self, stream, on_frame, on_level, on_error)
        self._taps[stream] = tap
        tap.real = self._factories[stream](lambda pcm: self._frame(stream, pcm),
                                           lambda level: self._level(stream, level),
                                           lambda error: self._error(stream, error))
        return tap

    def _frame(self, stream: Stream, pcm: bytes) -> None:
        if not self.mixed:
            self._taps[stream].deliver(pcm)
            return
        for you, others in self._aligner.take(_PART[stream], pcm):
            self._emit_mixed(you, others)

    def _emit_mixed(self, you: bytes | None, others: bytes | None) -> None:
        frame = mix_s16(you, others) if you is not None and others is not None else you or others
        if frame is None:
            return
        tap = self._taps[YOU]
        tap.deliver(frame)
        tap.on_level(level_of(frame))

    def drain(self) -> None:
        """What one device delivered after the other stopped goes out too (at the end)."""
        for you, others in self._aligner.drain():
            self._emit_mixed(you, others)

    def _level(self, stream: Stream, level: Level) -> None:
        if not self.mixed:
            self._taps[stream].on_level(level)  # mixed: measured on the mix itself

    def _error(self, stream: Stream, error: AudioError) -> None:
        # Mixed, both devices feed You's recording: it is the one that must hear of a failure.
        self._taps[YOU if self.mixed else stream].on_error(error)

    def real(self, stream: Stream) -> AudioSource | None:
        tap = self._taps.get(stream)
        return None if tap is None else tap.real


class _TapFactory:
    def __init__(self, taps: VoiceTaps, stream: Stream) -> None:
        self._taps = taps
        self._stream = stream

    def __call__(self, on_frame: FrameSink, on_level: LevelSink,
                 on_error: ErrorSink) -> AudioSource:
        return self._taps.build(self._stream, on_frame, on_level, on_error)


class _Tap:
    """One stream's view of the pair: its own device's frames, or (You, mixed) both summed."""

    real: AudioSource

    def __init__(self, owner: VoiceTaps, stream: Stream, on_frame: FrameSink,
                 on_level: LevelSink, on_error: ErrorSink) -> None:
        self._owner = owner
        self._stream = stream
        self._on_frame = on_frame
        self.on_level = on_level
        self.on_error = on_error
        self.delivered = 0
        self.closed = False  # stopped, or (a file) played to its end
        self._ended = asyncio.Event()  # Others, when the mix took over

    def deliver(self, pcm: bytes) -> None:
        self.delivered += 1
        self._on_frame(pcm)

    def end(self) -> None:
        self.closed = True
        self._ended.set()

    @property
    def dropped_frames(self) -> int:
        return self.real.dropped_frames

    @property
    def overflows(self) -> int:
        return self.real.overflows

    @property
    def frames_delivered(self) -> int:
        return self.delivered

    @property
    def ends_by_itself(self) -> bool:
        return self.real.ends_by_itself

    async def start(self) -> None:
        await self.real.start()

    async def stop(self) -> None:
        self.closed = True
        if not self._owner.mixed:
            await self.real.stop()
        elif self._stream == YOU:  # the mix's owner stops both devices
            await self.real.stop()
            others = self._owner.real(OTHERS)
            if others is not None:
                await others.stop()
            self._owner.drain()
        # Others, mixed: its device now feeds You's recording, which stops it.

    async def wait_ended(self) -> None:
        if self._stream == OTHERS:
            await first_of(self.real.wait_ended(), self._ended.wait())
            self.closed = True
            return
        await self.real.wait_ended()
        if self._owner.mixed:  # a file: the mix ends when both have been played
            others = self._owner.real(OTHERS)
            if others is not None:
                await others.wait_ended()
            self._owner.drain()
        self.closed = True
