"""The audio of one recording that no engine has finished with yet, so a new session can
pick up where the last one stopped with no word lost or doubled.

Positions are milliseconds on the *recording's* timeline (0 = the first audio of the
recording), counted from the bytes handed in (16 kHz mono s16le, 32 bytes per ms). Each engine
session starts at some position (:meth:`HeldAudio.begin_session`) and reports times relative
to its own first audio; :meth:`HeldAudio.acknowledge` takes such a session time — the end of
a finished turn's last word — and lets go of everything before it. What is left is exactly
what a replacement session must hear again: the turn in progress and anything after it.

Memory is bounded (``max_ms``): past it the oldest audio goes and is counted in
``overflow_ms`` (it was transcribed already unless a session was down at the time, which the
recorder counts separately). Pure: no clock, no I/O.
"""

from __future__ import annotations

from app.core.audio import SAMPLE_RATE, SAMPLE_WIDTH

BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000  # 32


class HeldAudio:
    def __init__(self, max_ms: int = 300_000) -> None:
        if max_ms <= 0:
            raise ValueError("max_ms must be positive")
        self._max_bytes = max_ms * BYTES_PER_MS
        self._buffer = bytearray()
        self._start = 0  # recording byte position of _buffer[0]
        self._session_start = 0  # recording byte position of the current session's first byte
        self._acked = 0  # recording byte position every engine so far has finished with
        self.overflow_ms = 0

    # --- reading ---------------------------------------------------------------------------

    @property
    def start_ms(self) -> int:
        """Where the held audio begins on the recording's timeline."""
        return self._start // BYTES_PER_MS

    @property
    def end_ms(self) -> int:
        """Everything handed in so far, in ms of audio."""
        return (self._start + len(self._buffer)) // BYTES_PER_MS

    @property
    def held_ms(self) -> int:
        return len(self._buffer) // BYTES_PER_MS

    @property
    def session_start_ms(self) -> int:
        return self._session_start // BYTES_PER_MS

    @property
    def acked_byte(self) -> int:
        """Everything before it has been finished by an engine (what the bound drops between
        it and :attr:`start_byte` was never finished: lost if a new session has to replay)."""
        return self._acked

    @property
    def start_byte(self) -> int:
        return self._start

    @property
    def end_byte(self) -> int:
        return self._start + len(self._buffer)

    def read(self, from_byte: int, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of held audio from recording byte position ``from_byte``
        (clamped to what is held)."""
        offset = max(0, from_byte - self._start)
        length = max(0, max_bytes - max_bytes % SAMPLE_WIDTH)
        return bytes(self._buffer[offset:offset + length])

    # --- writing ---------------------------------------------------------------------------

    def append(self, pcm: bytes) -> None:
        if len(pcm) % SAMPLE_WIDTH:
            raise ValueError("audio must hold whole 16-bit samples")
        self._buffer += pcm
        excess = len(self._buffer) - self._max_bytes
        if excess > 0:
            excess += -excess % SAMPLE_WIDTH
            self._drop(excess)
            self.overflow_ms += excess // BYTES_PER_MS

    def begin_session(self) -> int:
        """A new session hears the held audio from its start: returns that position (ms),
        which is the offset of the new session's times on the recording's timeline."""
        self._session_start = self._start
        return self.start_ms

    def acknowledge(self, session_ms: int) -> None:
        """The current session finished everything before ``session_ms`` (its own time)."""
        target = self._session_start + max(0, session_ms) * BYTES_PER_MS
        self._drop(min(len(self._buffer), max(0, target - self._start)))
        self._acked = max(self._acked, min(target, self.end_byte))

    def _drop(self, count: int) -> None:
        count -= count % SAMPLE_WIDTH
        if count > 0:
            del self._buffer[:count]
            self._start += count


def pace_delay_s(sent_ms: int, elapsed_s: float, *, throughput: float = 1.25,
                 max_ahead_ms: int = 60_000) -> float:
    """How long to wait before sending more audio to a session that has run ``elapsed_s``
    and received ``sent_ms`` of audio, so that what waits ahead of the service's processing
    stays under ``max_ahead_ms``. AssemblyAI processes at about 1.25x real time and closes
    with 3007 past five minutes ahead (PROTOCOL.md §6); a live microphone is never delayed."""
    ahead = sent_ms - throughput * max(0.0, elapsed_s) * 1000
    if ahead < max_ahead_ms:
        return 0.0
    return (ahead - max_ahead_ms) / (throughput * 1000) + 0.001
