"""Read a WAV file as the streaming wire format (16 kHz mono s16le), in 50 ms frames.

Used by the headless ``--wav`` mode, tests and benchmarks. Files in another format are refused
with a typed error (resampling arrives with the capture layer).
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

from app.core.audio import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, SAMPLE_WIDTH
from app.core.errors import AudioError


def read_wav_pcm(path: Path) -> bytes:
    """All samples of a 16 kHz mono 16-bit WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            if (rate, channels, width) != (SAMPLE_RATE, 1, SAMPLE_WIDTH):
                raise AudioError(
                    f"{path.name} is {rate} Hz, {channels} channel(s), {8 * width}-bit.",
                    remedy="Convert it to 16 kHz mono 16-bit, e.g. "
                    "sox in.wav -r 16000 -c 1 -b 16 out.wav.",
                )
            return wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"Could not read {path.name} as a WAV file ({exc}).") from None


async def paced_frames(pcm: bytes, *, realtime: bool = True) -> AsyncIterator[bytes]:
    """Yield 50 ms frames; with ``realtime`` at the pace a microphone would deliver them."""
    start = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), FRAME_BYTES)):
        if realtime:
            due = start + index * FRAME_MS / 1000
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # real-time pacing, as a microphone would
        else:
            await asyncio.sleep(0)
        yield pcm[offset : offset + FRAME_BYTES]
