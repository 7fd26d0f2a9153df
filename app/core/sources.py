"""The audio-source port: what the app needs from anything that produces wire-format audio.

A microphone (``app.io.audio.capture.PyAudioCapture``) and a WAV file played back as if spoken
(``app.io.audio.file_source.WavFileSource``) both implement :class:`AudioSource`, so the controller
and the headless mode drive either the same way. Both deliver through the same three callbacks,
always on the event loop's thread:

* ``on_frame(bytes)`` — exactly one 50 ms frame of 16 kHz mono s16le (1600 bytes),
* ``on_level(Level)`` — the loudness of the audio just delivered, about 20 times a second,
* ``on_error(AudioError)`` — the source failed after it started (device unplugged, file
  unreadable); it has stopped itself and delivered what it had.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol

from app.core.errors import AudioError
from app.core.signal import Level

FrameSink = Callable[[bytes], None]
LevelSink = Callable[[Level], None]
ErrorSink = Callable[[AudioError], None]


class AudioSource(Protocol):
    """Produces 50 ms wire-format frames until stopped.

    ``start`` raises :class:`AudioError` when the source cannot begin; ``stop`` never raises,
    and returns only after the last audio (the partial frame, padded) has gone to ``on_frame``.
    """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def dropped_frames(self) -> int:
        """Sample frames thrown away because the consumer fell behind (0 when healthy)."""

    @property
    def overflows(self) -> int:
        """Times the device reported lost input (the driver's buffer overran)."""

    @property
    def frames_delivered(self) -> int:
        """50 ms frames handed to ``on_frame`` so far."""

    @property
    def ends_by_itself(self) -> bool:
        """A file ends when it has all been played; a microphone only when stopped."""

    async def wait_ended(self) -> None:
        """Return once a source that ends by itself has delivered everything (never returns
        for a live source)."""


def format_clock(ms: int) -> str:
    """``75_000`` → ``"1:15"``; hours appear only when needed (``"1:02:03"``)."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class FileProgress:
    """When to report how far a file has got, and the line that says it: one line each
    time another ``step_percent`` is passed, and always the final 100 %.

    Pure: the caller passes the elapsed time (from its own clock), so the estimate of the time
    left is the recent pace (:class:`PaceEstimate`; at first the pace so far) applied to what
    remains.
    """

    def __init__(self, step_percent: int = 10) -> None:
        if not 0 < step_percent <= 100:
            raise ValueError("step_percent must be in 1..100")
        self._step = step_percent
        self._next = step_percent
        self._pace = PaceEstimate()
        self.done = False

    def update(self, position_ms: int, duration_ms: int | None, elapsed_s: float,
               *, finished: bool = False) -> str | None:
        """The line to print now, or ``None`` when this update crosses no new step."""
        if self.done:
            return None
        if finished:
            self.done = True
            total = max(position_ms, duration_ms or 0)
            return f"progress: 100 % ({format_clock(total)} of {format_clock(total)}, done)"
        if not duration_ms or duration_ms <= 0:
            return None  # the file does not say how long it is: nothing honest to show
        self._pace.add(elapsed_s, position_ms)
        percent = progress_percent(position_ms, duration_ms) or 0  # 100 % only once ended
        if percent < self._next:
            return None
        self._next = (percent // self._step + 1) * self._step
        left_ms = self._pace.left_ms(duration_ms)  # the recent pace, once there is one
        if left_ms is None:
            left_ms = time_left_ms(position_ms, duration_ms, elapsed_s)
        left = "" if left_ms is None else f", about {format_clock(left_ms)} left"
        return (f"progress: {percent} % ({format_clock(position_ms)} of "
                f"{format_clock(duration_ms)}{left})")


def time_left_ms(position_ms: int, duration_ms: int | None, elapsed_s: float) -> int | None:
    """The pace so far applied to what remains of the file, or ``None`` with nothing to go
    on yet (no length, nothing done, no time passed)."""
    if not duration_ms or position_ms <= 0 or elapsed_s <= 0:
        return None
    remaining_ms = max(0, duration_ms - position_ms)
    return round(elapsed_s * remaining_ms / position_ms * 1000)


def progress_percent(position_ms: int, duration_ms: int | None) -> int | None:
    """How far through the file, 0–99 (100 is said only once it has all been transcribed:
    the header's length may be short), or ``None`` when the file does not say its length."""
    if not duration_ms or duration_ms <= 0:
        return None
    return max(0, min(99, position_ms * 100 // duration_ms))


class PaceEstimate:
    """The time left from the pace of the last ``window_s`` seconds, not from the start: the
    first seconds of a file are read into buffers at once (a burst that would promise far too
    little time), and later the pace follows what the file holds (silence goes faster)."""

    def __init__(self, window_s: float = 20.0, min_span_s: float = 2.0) -> None:
        self._window_s = window_s
        self._min_span_s = min_span_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, elapsed_s: float, position_ms: int) -> None:
        self._samples.append((elapsed_s, position_ms))
        while len(self._samples) > 2 and self._samples[1][0] <= elapsed_s - self._window_s:
            self._samples.popleft()

    def left_ms(self, duration_ms: int | None) -> int | None:
        """``None`` until there is a span of ``min_span_s`` to measure, or no length."""
        if not duration_ms or len(self._samples) < 2:
            return None
        (t0, p0), (t1, p1) = self._samples[0], self._samples[-1]
        if t1 - t0 < self._min_span_s or p1 <= p0:
            return None
        return round(max(0, duration_ms - p1) * (t1 - t0) * 1000 / (p1 - p0))
