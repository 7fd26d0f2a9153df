"""Streaming conversion of mono s16le audio from a device's rate to the wire rate (16 kHz).

The only module of the capture path that touches numpy and soxr. soxr keeps its filter state
between chunks, so cutting the audio into callback-sized pieces changes nothing in the output;
``flush`` drains the filter's delay line at the end of a recording.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import soxr

from app.core.audio import SAMPLE_RATE

_WIRE_DTYPE: Final = np.dtype("<i2")


class StreamResampler:
    """Resamples successive chunks of mono s16le from ``in_rate`` to ``out_rate``.

    At ``in_rate == out_rate`` it passes bytes through untouched, so the common 16 kHz device
    stays bit-exact and costs nothing.
    """

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE, *, quality: str = "HQ") -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream: soxr.ResampleStream | None = None
        if in_rate != out_rate:
            self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16",
                                               quality=quality)

    @property
    def is_identity(self) -> bool:
        return self._stream is None

    def process(self, data: bytes) -> bytes:
        """Resample one chunk; the output may lag the input by the filter's delay."""
        if self._stream is None:
            return data
        return _run(self._stream, data, last=False)

    def flush(self) -> bytes:
        """The samples still held in the filter; the resampler starts afresh afterwards."""
        if self._stream is None:
            return b""
        tail = _run(self._stream, b"", last=True)
        self._stream.clear()
        return tail


def _run(stream: soxr.ResampleStream, data: bytes, *, last: bool) -> bytes:
    samples = np.frombuffer(data, dtype=_WIRE_DTYPE).astype(np.int16, copy=False)
    out = np.asarray(stream.resample_chunk(samples, last=last), dtype=_WIRE_DTYPE)
    return out.tobytes()
