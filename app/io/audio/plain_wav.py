"""A WAV file already in the wire format (PCM, 16 kHz, mono, 16-bit), read with the stdlib.

PyAV decodes such a file to exactly its own bytes, but through a packet, a frame, a resampler
pass and an array per ~4 KB, which measured ~0.9 ms of CPU per second of audio on this
project's 2-core test machine (~0.09 % of a core while a file streams in real time); reading
the bytes as they are costs a fraction of it. Any other WAV (another rate, stereo, 24-bit,
float, WAVE_FORMAT_EXTENSIBLE, a header whose length the file does not hold) and every other
format goes through PyAV (:mod:`app.io.audio.decoder`), so nothing is lost by this path.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path

from app.core.audio import SAMPLE_RATE, SAMPLE_WIDTH
from app.io.audio.media_file import Identity, MediaFile

log = logging.getLogger(__name__)

_RIFF_HEADER_BYTES = 44  # the shortest header a PCM WAV can have


class PlainWavFile(MediaFile):
    """An open wire-format WAV read block by block (blocking calls)."""

    codec = "pcm_s16le"  # what PyAV calls it
    source_rate = SAMPLE_RATE
    source_channels = 1

    def __init__(self, path: Path, wav: wave.Wave_read, identity: Identity) -> None:
        super().__init__(path, identity, round(wav.getnframes() * 1000 / SAMPLE_RATE))
        self._wav = wav
        self._ended = False

    def read(self, min_ms: int) -> bytes:
        if self._ended:
            return b""
        want = SAMPLE_RATE * min_ms // 1000
        try:
            data = self._wav.readframes(want)
        except (OSError, EOFError, wave.Error) as exc:
            raise self._failed(exc) from None
        data = data[: len(data) - len(data) % SAMPLE_WIDTH]  # cut off mid-sample: drop the stub
        self._in_samples += len(data) // SAMPLE_WIDTH
        if len(data) < want * SAMPLE_WIDTH:
            self._ended = True
            self._check_end()
        return data

    def close(self) -> None:
        self._wav.close()


def open_plain_wav(path: Path, identity: Identity) -> PlainWavFile | None:
    """``path`` as a :class:`PlainWavFile` when it is a PCM WAV in the wire format whose
    header's length the file holds; None for anything else (PyAV reads it). Blocks."""
    try:
        wav = wave.open(str(path), "rb")
    except (OSError, EOFError, wave.Error):
        return None  # not a plain PCM WAV (or not a WAV at all)
    try:
        fits = (wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
                and wav.getsampwidth() == SAMPLE_WIDTH and wav.getcomptype() == "NONE"
                and wav.getnframes() * SAMPLE_WIDTH <= identity.size - _RIFF_HEADER_BYTES)
    except (OSError, EOFError, wave.Error):
        fits = False
    if not fits:
        wav.close()
        return None
    return PlainWavFile(path, wav, identity)
