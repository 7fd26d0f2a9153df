"""Audio format maths for the streaming wire format: 16 kHz, mono, signed 16-bit little endian.
Sources cut audio into 50 ms frames; the streaming client sends 100 ms messages
(PROTOCOL.md §3.2: each binary message must hold 50-1000 ms)."""

from __future__ import annotations

from typing import Final

SAMPLE_RATE: Final = 16_000
SAMPLE_WIDTH: Final = 2  # bytes, s16le
FRAME_MS: Final = 50
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000  # 800
FRAME_BYTES: Final = FRAME_SAMPLES * SAMPLE_WIDTH  # 1600
# How often a source hands audio over (a PortAudio buffer, a paced file read): two 50 ms
# frames per wake-up. Every hand-off costs event-loop iterations (pump, feeder, writer), each
# a select() call, and on a 2-core machine those dominate the app's CPU while streaming
# (benchmarks/bench_cpu.py); 100 ms halves them for at most 50 ms more latency
# (benchmarks/bench_audio_latency.py). Sources still cut 50 ms frames (FRAME_MS).
WAKE_MS: Final = 100
# What one binary message to the service holds. One message per hand-off (WAKE_MS): each
# socket write costs far more than its bytes (a syscall, TCP over loopback or TLS, websockets'
# framing; benchmarks/bench_cpu.py), and since two 50 ms frames leave at the same hand-off
# anyway, sending them as one message adds no latency (benchmarks/bench_audio_latency.py).
# ~100 ms is also what the official SDK's MicrophoneStream sent; the service allows 50-1000 ms.
WIRE_FRAME_MS: Final = WAKE_MS
WIRE_FRAME_BYTES: Final = SAMPLE_RATE * WIRE_FRAME_MS // 1000 * SAMPLE_WIDTH  # 3200
MIN_MESSAGE_MS: Final = 50
MAX_MESSAGE_MS: Final = 1000


def duration_ms(n_bytes: int, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> float:
    """Duration of ``n_bytes`` of s16le audio."""
    return n_bytes * 1000 / (sample_rate * channels * SAMPLE_WIDTH)


def bytes_for_ms(ms: float, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> int:
    """Whole samples' worth of bytes for ``ms`` milliseconds (rounded down to a sample)."""
    samples = int(sample_rate * ms / 1000)
    return samples * channels * SAMPLE_WIDTH


class FrameChunker:
    """Re-chunks arbitrary byte runs into exact frames of ``frame_bytes``.

    Capture callbacks deliver whatever the device gives (e.g. 1024 or 441 samples); the
    service wants 50 ms per message. ``push`` returns the complete frames; ``flush`` returns
    the remainder padded with silence to a whole frame (shorter messages are rejected, and a
    few ms of silence at the end changes nothing in the transcript).
    """

    def __init__(self, frame_bytes: int = FRAME_BYTES) -> None:
        if frame_bytes <= 0 or frame_bytes % SAMPLE_WIDTH:
            raise ValueError("frame_bytes must be a positive whole number of samples")
        self.frame_bytes = frame_bytes
        self._pending = bytearray()

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    def push(self, data: bytes) -> list[bytes]:
        self._pending += data
        size = self.frame_bytes
        complete = len(self._pending) - len(self._pending) % size
        if complete == 0:
            return []
        frames = [bytes(self._pending[i : i + size]) for i in range(0, complete, size)]
        del self._pending[:complete]
        return frames

    def flush(self, min_bytes: int | None = None) -> bytes | None:
        """The remainder, padded with silence to ``min_bytes`` (default: a whole frame)."""
        if not self._pending:
            return None
        # An odd trailing byte is half a sample: drop it rather than shift every sample after.
        usable = len(self._pending) - len(self._pending) % SAMPLE_WIDTH
        pad_to = self.frame_bytes if min_bytes is None else min(min_bytes, self.frame_bytes)
        frame = bytes(self._pending[:usable]).ljust(pad_to, b"\x00")
        self._pending.clear()
        return frame if usable else None
