"""What every file reader of :class:`app.io.audio.decoded_source.DecodedFileSource` shares: the
file's timeline read so far, and the checks at its end (the file changed or vanished under us,
or it ends well before the length its header gives), with one plain sentence each.

Two readers implement it: :class:`app.io.audio.decoder.DecodedFile` (PyAV: any format) and
:class:`app.io.audio.plain_wav.PlainWavFile` (a WAV already in the wire format, read with the
stdlib). Both block: they are driven from a worker thread, one call at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.core.audio import SAMPLE_RATE
from app.core.errors import AudioError
from app.core.sources import format_clock

# A file that ends this much before the length its header gives (at least _SHORT_MIN_MS, or
# this fraction of it: a length estimated from the bit rate can be somewhat off) was cut short.
_SHORT_MIN_MS: Final = 3000
_SHORT_FRACTION: Final = 0.1


@dataclass(frozen=True)
class Identity:
    """What the file looked like when it was opened, to tell "it changed" from "it ended"."""

    size: int
    mtime_ns: int
    inode: int


def identity_of(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Identity(st.st_size, st.st_mtime_ns, st.st_ino)


class MediaFile:
    """An open file read as 16 kHz mono s16le, block by block (blocking calls)."""

    codec: str
    source_rate: int
    source_channels: int

    def __init__(self, path: Path, identity: Identity, duration_ms: int | None,
                 length_is_known: bool = True) -> None:
        self.path = path
        self.duration_ms = duration_ms
        self._identity = identity
        # False when the header's length is only a guess (a VBR MP3 without a frame count):
        # then a short file is not called cut short.
        self._length_is_known = length_is_known
        self._in_samples = 0  # samples produced so far (wire rate), silence for gaps included

    @property
    def position_ms(self) -> int:
        """How much of the file's timeline has been read so far."""
        return self._in_samples * 1000 // SAMPLE_RATE

    def read(self, min_ms: int) -> bytes:
        """At least ``min_ms`` of audio (less only at the end); ``b""`` once the file is done.
        Raises :class:`AudioError` when the file fails partway through or changes under us."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _check_end(self) -> None:
        self._check_unchanged()
        self._check_whole()

    def _check_unchanged(self) -> None:
        """A file that is cut short or rewritten while read looks like a file that ends
        early: say so rather than pass half a file off as the whole."""
        now = identity_of(self.path)
        if now == self._identity:
            return
        # Deleted but still open (POSIX) reads to the end: only a short read lost anything.
        if self.duration_ms is None or self.position_ms + 1000 < self.duration_ms:
            raise self._moved_under_us(now)

    def _check_whole(self) -> None:
        """Some formats (MP3 above all) simply stop where a file was cut off, an unfinished
        download or copy, with no decoding error: compare with the length the header gave."""
        if self.duration_ms is None or not self._length_is_known:
            return
        missing = self.duration_ms - self.position_ms
        if missing > max(_SHORT_MIN_MS, self.duration_ms * _SHORT_FRACTION):
            raise AudioError(
                f"{self.path.name} ends at {format_clock(self.position_ms)}, but it says it is "
                f"{format_clock(self.duration_ms)} long: the file looks cut short.",
                remedy="The words up to there are kept. If it was downloaded or copied, get "
                       "the whole file again and open it.")

    def _failed(self, exc: BaseException) -> AudioError:
        now = identity_of(self.path)
        if now != self._identity:
            return self._moved_under_us(now, detail=str(exc))
        return AudioError(f"{self.path.name} is damaged: it could not be decoded past "
                          f"{format_clock(self.position_ms)}.",
                          remedy="Check the file and try again.", detail=str(exc))

    def _moved_under_us(self, now: Identity | None, detail: str = "") -> AudioError:
        what = "was removed" if now is None else "changed"
        return AudioError(
            f"{self.path.name} {what} while it was being read, after "
            f"{format_clock(self.position_ms)}.",
            remedy="Keep the file in place until it has been transcribed, then try again.",
            detail=detail)
