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
