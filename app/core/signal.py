"""Pure signal maths for the capture pipeline: channel downmix, sample-width conversion, level
metering and buffer sizing, all on signed 16-bit little-endian PCM held in ``bytes``.

Stdlib only (``array``, ``math``): the heavy lifting (resampling) lives in ``app.io`` on numpy
and soxr; what is here is cheap enough in pure Python for 50 ms frames and keeps core testable
without any native package.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass
from typing import Final

from app.core.audio import FRAME_MS, SAMPLE_WIDTH

FULL_SCALE: Final = 32768  # |-32768| is the largest magnitude an int16 sample can hold
SILENCE_DBFS: Final = -120.0  # the floor reported for digital silence instead of -inf

_BIG_ENDIAN: Final = sys.byteorder == "big"
# Flips the sign bit: unsigned 8-bit PCM (silence = 128) becomes the high byte of signed PCM.
_U8_TO_S8: Final = bytes((value ^ 0x80) for value in range(256))


@dataclass(frozen=True)
class Level:
    """Loudness of a stretch of audio in dB relative to full scale (0 dBFS = the int16 limit).

    A full-scale sine has ``peak_dbfs`` 0 and ``rms_dbfs`` about -3.01.
    """

    rms_dbfs: float
    peak_dbfs: float


def samples_s16(data: bytes) -> array[int]:
    """``data`` (s16le) as an array of ints in host order."""
    if len(data) % SAMPLE_WIDTH:
        raise ValueError("s16le data must be a whole number of 2-byte samples")
    samples = array("h")
    samples.frombytes(data)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def bytes_s16(samples: array[int]) -> bytes:
    """An int16 array back to s16le bytes."""
    if _BIG_ENDIAN:
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def downmix_s16(data: bytes, channels: int) -> bytes:
    """Average the channels of interleaved s16le ``data`` into one (floor of the mean).

    Averaging rather than summing can never clip, and two identical channels give back
    exactly the original samples.
    """
    if channels < 1:
        raise ValueError("channels must be at least 1")
    if len(data) % (SAMPLE_WIDTH * channels):
        raise ValueError("data must hold whole frames (one sample per channel)")
    if channels == 1:
        return data
    samples = samples_s16(data)
    if channels == 2:
        # The common case gets its own expression: about 3x faster than the general one.
        left, right = samples[0::2], samples[1::2]
        mixed = array("h", [(a + b) >> 1 for a, b in zip(left, right, strict=True)])
    else:
        columns = [samples[c::channels] for c in range(channels)]
        mixed = array("h", [sum(frame) // channels for frame in zip(*columns, strict=True)])
    return bytes_s16(mixed)


def to_s16(data: bytes, sample_width: int) -> bytes:
    """Convert little-endian integer PCM of ``sample_width`` bytes to s16le.

    8-bit WAV is unsigned; 24- and 32-bit are signed and keep their top 16 bits (truncation,
    no dither: the recogniser cannot hear the difference and the output stays deterministic).
    """
    if sample_width == SAMPLE_WIDTH:
        return data
    if sample_width not in (1, 3, 4):
        raise ValueError(f"unsupported sample width: {sample_width} bytes")
    if len(data) % sample_width:
        raise ValueError("data must be a whole number of samples")
    count = len(data) // sample_width
    out = bytearray(count * SAMPLE_WIDTH)
    if sample_width == 1:
        out[1::2] = data.translate(_U8_TO_S8)
    else:
        out[0::2] = data[sample_width - 2 :: sample_width]
        out[1::2] = data[sample_width - 1 :: sample_width]
    return bytes(out)


def _dbfs(magnitude: float) -> float:
    if magnitude <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20 * math.log10(magnitude / FULL_SCALE))


def level_from_sums(sum_of_squares: float, count: int, peak: int) -> Level:
    """The level of ``count`` samples whose squares add up to ``sum_of_squares`` and whose
    largest magnitude is ``peak``: the arithmetic shared by :func:`level_dbfs` and the
    vectorised meter in ``app.io`` (which finds the sums without a Python loop per sample)."""
    if count <= 0:
        return Level(SILENCE_DBFS, SILENCE_DBFS)
    return Level(rms_dbfs=_dbfs(math.sqrt(sum_of_squares / count)), peak_dbfs=_dbfs(peak))


def level_dbfs(data: bytes) -> Level:
    """RMS and peak level of s16le ``data``; empty or all-zero data gives the silence floor.

    Pure Python, one step per sample (~150 µs for a 50 ms frame on a slow core): fine for a
    one-off reading; the capture pipeline meters every frame with ``app.io.audio.level``."""
    samples = samples_s16(data)
    if not samples:
        return Level(SILENCE_DBFS, SILENCE_DBFS)
    peak = max(max(samples), -min(samples))
    return level_from_sums(sum(x * x for x in samples), len(samples), peak)


def frames_per_buffer(sample_rate: int, ms: int = FRAME_MS) -> int:
    """Sample frames in ``ms`` milliseconds at ``sample_rate`` (at least one)."""
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    return max(1, sample_rate * ms // 1000)


def frames_due(tick: int, sample_rate: int, ms: int = FRAME_MS) -> int:
    """Sample frames that should have been produced after ``tick`` periods of ``ms``.

    Computed from the start rather than summed per period, so rates that do not divide evenly
    (22 050 Hz is 1102.5 frames per 50 ms) never drift.
    """
    return tick * sample_rate * ms // 1000


def piece_sizes(length: int, tick: int, sent: int, sample_rate: int, ms: int = FRAME_MS,
                bytes_per_frame: int = SAMPLE_WIDTH) -> list[int]:
    """How a reader paced at one piece per ``ms`` cuts a block of ``length`` bytes that begins
    after ``tick`` periods, when ``sent`` bytes have gone: each piece is what the whole
    stream should have delivered by the end of its period (:func:`frames_due`) less what has
    gone, and the block's end cuts the last one short (the next block makes up for it).
    A period that is owed nothing gets an empty piece, so every size stands for one period."""
    sizes: list[int] = []
    offset = 0
    while offset < length:
        tick += 1
        owed = frames_due(tick, sample_rate, ms) * bytes_per_frame - sent
        size = max(0, min(owed, length - offset))
        sizes.append(size)
        offset += size
        sent += size
    return sizes
