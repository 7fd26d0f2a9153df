"""Blocking decoding of any common audio or video file into 16 kHz mono s16le, with PyAV.

The only module that imports ``av``. PyAV ships FFmpeg's decoders in its wheel (it is already
installed for the offline engine), so WAV of any sample format, FLAC, OGG/Opus/Vorbis, MP3,
M4A/AAC and the audio track of MP4/MKV/WebM all go through one path: demux the first audio
stream, decode, and let FFmpeg's resampler convert to the wire format (downmix included). The
one exception is a WAV already in the wire format: :func:`open_media_file` hands it to
:mod:`app.io.audio.plain_wav`, which reads the same bytes without decoding.

Everything here blocks: :class:`DecodedFile` is driven from a worker thread, one call at a
time, by :class:`app.io.audio.decoded_source.DecodedFileSource`.

Errors are :class:`AudioError` with one plain sentence: the file is missing, empty, not a
media file, has no audio track, or fails (or changes under us) partway through.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final

import av
import av.error

from app.core.audio import SAMPLE_RATE, SAMPLE_WIDTH
from app.core.errors import AudioError
from app.io.audio.media_file import Identity, MediaFile
from app.io.audio.plain_wav import open_plain_wav

log = logging.getLogger(__name__)

# A gap in the file's timestamps shorter than this is codec jitter, not silence to restore.
_GAP_TOLERANCE_MS: Final = 20
# At most this much silence is inserted for one gap, so a broken timestamp cannot produce
# hours of nothing.
_MAX_GAP_MS: Final = 10 * 60 * 1000
_FIRST_FRAME_BYTES: Final = 4096  # enough to hold an MP3's first frame and its header
_REMEDY_CHOOSE: Final = "Choose an audio or video file (WAV, FLAC, MP3, OGG, M4A, MP4, MKV, WebM)."


class DecodedFile(MediaFile):
    """An open media file read as 16 kHz mono s16le, block by block (blocking calls)."""

    def __init__(self, path: Path, container: av.container.InputContainer,
                 stream: av.AudioStream, identity: Identity) -> None:
        # An MP3's length is only an estimate from its bit rate unless its first frame says
        # how many frames it has (a Xing, Info or VBRI header): a VBR file without one can
        # be far off, and must not be called cut short for that.
        super().__init__(path, identity, _duration_ms(container, stream),
                         length_is_known=container.format.name != "mp3"
                         or _has_frame_count(path))
        self._container = container
        self._stream = stream
        self._frames = container.decode(stream)
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._ended = False
        self.codec = stream.codec_context.name
        self.source_rate = stream.rate
        self.source_channels = stream.channels

    def read(self, min_ms: int) -> bytes:
        """At least ``min_ms`` of audio (less only at the end); ``b""`` once the file is done.
        Raises :class:`AudioError` when the file fails partway through or changes under us."""
        want = SAMPLE_RATE * min_ms // 1000 * SAMPLE_WIDTH
        out = bytearray()
        while len(out) < want and not self._ended:
            try:
                frame = next(self._frames, None)
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                raise self._failed(exc) from None
            if frame is None:
                self._ended = True
                out += self._convert(None)
                self._check_end()
            else:
                out += self._silence_before(frame)
                out += self._convert(frame)
        return bytes(out)

    def close(self) -> None:
        self._container.close()

    def _convert(self, frame: av.AudioFrame | None) -> bytes:
        pieces = [f.to_ndarray().tobytes() for f in self._resampler.resample(frame)]
        data = b"".join(pieces)
        self._in_samples += len(data) // SAMPLE_WIDTH
        return data

    def _silence_before(self, frame: av.AudioFrame) -> bytes:
        """Silence for the stretch of the file's timeline before ``frame`` that holds no
        audio (a late first packet, a gap), so timestamps match the file's own clock."""
        if frame.time is None:
            return b""
        gap_ms = round(frame.time * 1000) - self.position_ms
        if gap_ms < _GAP_TOLERANCE_MS:
            return b""
        samples = SAMPLE_RATE * min(gap_ms, _MAX_GAP_MS) // 1000
        self._in_samples += samples
        return bytes(samples * SAMPLE_WIDTH)


def open_media_file(path: Path) -> MediaFile:
    """Open ``path`` and pick its first audio stream; raises :class:`AudioError` with the
    reason when the file cannot be used (blocking)."""
    name = path.name
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioError(f"{name} does not exist.", remedy="Check the path.") from None
    except OSError as exc:
        raise AudioError(f"{name} could not be opened ({exc.strerror}).",
                         remedy="Check the file's permissions.", detail=str(exc)) from None
    if path.is_dir():
        raise AudioError(f"{name} is a folder, not a file.", remedy=_REMEDY_CHOOSE)
    if st.st_size == 0:
        raise AudioError(f"{name} is empty (0 bytes).", remedy=_REMEDY_CHOOSE)
    identity = Identity(st.st_size, st.st_mtime_ns, st.st_ino)
    plain = open_plain_wav(path, identity)  # a WAV already in the wire format: no decoding
    if plain is not None:
        return plain
    try:
        container = av.open(str(path), "r")
    except PermissionError as exc:
        raise AudioError(f"{name} could not be opened (permission denied).",
                         remedy="Check the file's permissions.", detail=str(exc)) from None
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioError(f"{name} is not an audio or video file the app can read.",
                         remedy=_REMEDY_CHOOSE, detail=str(exc)) from None
    try:
        if not container.streams.audio:
            raise AudioError(f"{name} has no audio track.",
                             remedy="Choose a file with sound in it.")
        stream = container.streams.audio[0]
        if stream.codec_context is None or stream.rate <= 0:
            raise AudioError(f"{name} has audio in a format the app cannot decode.",
                             remedy=_REMEDY_CHOOSE)
        return DecodedFile(path, container, stream, identity)
    except BaseException:
        container.close()
        raise


def _has_frame_count(path: Path) -> bool:
    """Whether the MP3 at ``path`` starts with a frame that gives the file's frame count (a
    Xing/Info or VBRI header), after its ID3v2 tag if it has one."""
    try:
        with open(path, "rb") as file:
            head = file.read(10)
            if head[:3] == b"ID3" and len(head) == 10:  # the tag's size: 4 x 7 bits
                size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
                file.seek(10 + size)
            else:
                file.seek(0)
            first = file.read(_FIRST_FRAME_BYTES)
    except OSError:
        return False
    return any(tag in first for tag in (b"Xing", b"Info", b"VBRI"))


def _duration_ms(container: av.container.InputContainer, stream: av.AudioStream) -> int | None:
    """The audio track's length from the file's header, or the container's, if it says."""
    if stream.duration is not None and stream.time_base is not None:
        return max(0, round(float(stream.duration * stream.time_base) * 1000))
    if container.duration is not None:
        return max(0, container.duration // 1000)  # AV_TIME_BASE is microseconds
    return None

