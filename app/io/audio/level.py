"""The level meter of the capture pipeline, vectorised: RMS and peak of a piece of audio in a
few numpy calls instead of a Python step per sample (the pure ``app.core.signal.level_dbfs``
took ~150 µs a frame on this project's 2-core test machine, this ~12 µs in a hot loop). Same
figures as ``level_dbfs``: the dB arithmetic is core's.

Called once per 100 ms hand-off, a numpy call finds its caches cold (other processes ran in
between) and costs ~10x its hot figure (measured: ~150 µs for :func:`level_of`), so a file's
levels are found for a whole decoded block at once, on the reader thread
(:func:`levels_of_pieces`: one pass over every piece of the block)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.core.audio import SAMPLE_WIDTH
from app.core.signal import Level, level_from_sums


def level_of(data: bytes) -> Level:
    """RMS and peak level of s16le ``data`` (empty or all-zero: the silence floor)."""
    if len(data) % SAMPLE_WIDTH:
        raise ValueError("s16le data must be a whole number of 2-byte samples")
    samples = np.frombuffer(data, dtype="<i2").astype(np.int64)
    if not samples.size:
        return level_from_sums(0, 0, 0)
    peak = int(max(samples.max(), -samples.min()))
    return level_from_sums(float(np.dot(samples, samples)), int(samples.size), peak)


def levels_of_pieces(data: bytes, sizes: Sequence[int]) -> list[Level]:
    """``level_of`` of each consecutive piece of s16le ``data`` (``sizes`` in bytes, adding up
    to at most ``len(data)``), found in one vectorised pass over all of them."""
    if any(size % SAMPLE_WIDTH or size < 0 for size in sizes):
        raise ValueError("each piece must be a whole number of 2-byte samples")
    total = sum(sizes)
    if total > len(data):
        raise ValueError("the pieces run past the end of the data")
    counts = [size // SAMPLE_WIDTH for size in sizes]
    whole = [i for i, count in enumerate(counts) if count]  # reduceat cannot do empty pieces
    levels = [level_from_sums(0, 0, 0)] * len(sizes)
    if not whole:
        return levels
    samples = np.frombuffer(data, dtype="<i2", count=total // SAMPLE_WIDTH)
    starts = np.cumsum([0, *counts[:-1]])[whole]
    wide = samples.astype(np.int64)
    squares = np.add.reduceat(wide * wide, starts)
    highest = np.maximum.reduceat(wide, starts)
    lowest = np.minimum.reduceat(wide, starts)
    for j, i in enumerate(whole):
        levels[i] = level_from_sums(float(squares[j]), counts[i],
                                    int(max(highest[j], -lowest[j])))
    return levels
