"""Audio and video files made in the test from a committed WAV fixture, with PyAV's encoders
(FFmpeg's codecs ship in its wheel, so every machine that runs the app can run these)."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class MediaKind:
    """How to write one kind of file: container, audio codec, its rate and channel layout."""

    suffix: str
    container: str
    codec: str
    rate: int
    layout: str = "mono"
    with_video: bool = False


FLAC = MediaKind(".flac", "flac", "flac", 16_000)
MP3 = MediaKind(".mp3", "mp3", "libmp3lame", 44_100)
OPUS = MediaKind(".ogg", "ogg", "libopus", 48_000)
M4A = MediaKind(".m4a", "ipod", "aac", 22_050)
MP4 = MediaKind(".mp4", "mp4", "aac", 44_100, "stereo", with_video=True)
WEBM = MediaKind(".webm", "webm", "libopus", 48_000, "stereo")
MKV = MediaKind(".mkv", "matroska", "flac", 44_100, "stereo", with_video=True)
WAV_FLOAT = MediaKind(".wav", "wav", "pcm_f32le", 48_000)
WAV_24BIT = MediaKind(".wav", "wav", "pcm_s24le", 44_100, "stereo")


def read_wav_s16(path: Path) -> tuple[np.ndarray, int]:
    """The mono 16-bit samples of a fixture and its rate."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getsampwidth(), wav.getnchannels()) == (2, 1)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"), wav.getframerate()


def encode(pcm: np.ndarray, rate: int, path: Path, kind: MediaKind, *,
           start_s: float = 0.0, bit_rate: int | None = None) -> Path:
    """Write mono s16 ``pcm`` at ``rate`` as ``kind`` (at ``bit_rate`` bit/s, else the
    codec's default); the audio's first timestamp is ``start_s`` on the file's timeline. A
    video kind gets a small black picture track."""
    with av.open(str(path), "w", format=kind.container) as out:
        audio = out.add_stream(kind.codec, rate=kind.rate, layout=kind.layout)
        assert isinstance(audio, av.AudioStream)
        if bit_rate is not None:
            audio.bit_rate = bit_rate
        video = None
        if kind.with_video:
            video = out.add_stream("mpeg4", rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        resampler = av.AudioResampler(format=audio.format.name, layout=kind.layout,
                                      rate=kind.rate)
        source = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        source.sample_rate = rate
        source.pts = round(start_s * rate)
        for frame in [*resampler.resample(source), *resampler.resample(None)]:
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
        if video is not None:
            black = np.zeros((48, 64, 3), np.uint8)
            for index in range(round((start_s + len(pcm) / rate) * 10)):
                picture = av.VideoFrame.from_ndarray(black, format="rgb24")
                picture.pts = index
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
    return path


def video_only(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 with a picture track and no sound."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        black = np.zeros((48, 64, 3), np.uint8)
        for index in range(round(seconds * 10)):
            picture = av.VideoFrame.from_ndarray(black, format="rgb24")
            picture.pts = index
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
    return path


def best_correlation(got: np.ndarray, want: np.ndarray, max_lag: int) -> tuple[float, int]:
    """The highest normalised correlation of ``want`` with ``got`` shifted by 0..max_lag
    samples (codecs add a little delay), and that lag."""
    n = len(want) - max_lag
    assert n > 0 and len(got) >= n + max_lag, (len(got), len(want))
    ref = want[:n].astype(float)
    best = (-1.0, 0)
    for lag in range(max_lag + 1):
        part = got[lag : lag + n].astype(float)
        denom = np.sqrt(np.dot(part, part) * np.dot(ref, ref))
        score = float(np.dot(part, ref) / denom) if denom else 0.0
        best = max(best, (score, lag))
    return best
