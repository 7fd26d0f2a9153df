"""DecodedFileSource: audio and video files of any common format become the same 16 kHz mono
50 ms frames as the source audio, with progress on the file's own timeline, and each kind of
bad input gives its one plain sentence."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest

from app.core.audio import FRAME_BYTES, WAKE_MS
from app.core.errors import AudioError
from app.core.signal import Level
from app.core.sources import AudioSource
from app.io.audio.decoded_source import DecodedFileSource, _PacedPieces, read_pieces
from app.io.audio.decoder import open_media_file
from app.io.audio.level import level_of
from app.io.audio.pump import AudioPump
from tests.support.media import (
    FLAC,
    M4A,
    MKV,
    MP3,
    MP4,
    OPUS,
    WAV_24BIT,
    WAV_FLOAT,
    WEBM,
    MediaKind,
    best_correlation,
    encode,
    read_wav_s16,
    video_only,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HELLO = FIXTURES / "hello.wav"


class Collector:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.errors: list[AudioError] = []
        self.progress: list[tuple[int, int | None]] = []
        self.enough = asyncio.Event()
        self.enough_at = 3

    def frame(self, data: bytes) -> None:
        self.frames.append(data)
        if len(self.frames) >= self.enough_at:
            self.enough.set()

    def error(self, error: AudioError) -> None:
        self.errors.append(error)

    def moved(self, position_ms: int, duration_ms: int | None) -> None:
        self.progress.append((position_ms, duration_ms))

    @property
    def pcm(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2")


def source_for(path: Path, out: Collector,
               room: Callable[[], Awaitable[None]] | None = None) -> DecodedFileSource:
    return DecodedFileSource(path, on_frame=out.frame, on_error=out.error,
                             on_progress=out.moved, realtime=False, room=room)


async def play_to_end(source: DecodedFileSource, within: float = 20) -> None:
    await source.start()
    await asyncio.wait_for(source.wait_ended(), within)
    await source.stop()


def test_it_is_an_audio_source() -> None:
    source: AudioSource = DecodedFileSource(HELLO, on_frame=lambda _: None)
    assert source.ends_by_itself


@pytest.mark.parametrize("kind", [FLAC, MP3, OPUS, M4A, MP4, WEBM, MKV, WAV_FLOAT, WAV_24BIT],
                         ids=lambda k: f"{k.codec}{k.suffix}")
async def test_each_format_decodes_to_the_source_audio(tmp_path: Path, kind: MediaKind) -> None:
    pcm, rate = read_wav_s16(HELLO)
    path = encode(pcm, rate, tmp_path / f"hello{kind.suffix}", kind)
    out = Collector()
    source = source_for(path, out)
    await play_to_end(source)
    assert not out.errors
    assert out.frames and all(len(frame) == FRAME_BYTES for frame in out.frames)
    seconds = len(pcm) / rate
    assert abs(len(out.pcm) / 16_000 - seconds) < 0.15  # codec padding, at most a few frames
    score, lag = best_correlation(out.pcm, pcm, max_lag=1600)  # up to 100 ms codec delay
    assert score > 0.95, (score, lag)
    assert source.completed and source.duration_ms == source.position_ms
    assert abs(source.position_ms - seconds * 1000) < 150
    positions = [p for p, _ in out.progress]
    assert positions == sorted(positions) and positions[-1] == source.position_ms
    assert out.progress[0][1] is not None  # the header's length, for a time-left estimate
    assert source.frames_delivered == len(out.frames) and source.dropped_frames == 0


async def test_audio_that_starts_late_keeps_the_files_timeline(tmp_path: Path) -> None:
    pcm, rate = read_wav_s16(HELLO)
    path = encode(pcm, rate, tmp_path / "late.mkv", MKV, start_s=1.5)
    out = Collector()
    await play_to_end(source_for(path, out))
    assert not out.errors
    lead = out.pcm[:16_000 * 3 // 2 - 160]
    assert np.abs(lead).max() == 0  # the first 1.5 s of the timeline hold no sound
    score, lag = best_correlation(out.pcm[24_000 - 800:], pcm, max_lag=1600)
    assert score > 0.95
    assert abs(lag - 800) <= 160, lag  # the speech sits at 1.5 s, within 10 ms


async def test_stereo_44k1_wav_is_downmixed_and_resampled(tmp_path: Path) -> None:
    pcm, rate = read_wav_s16(HELLO)
    path = encode(pcm, rate, tmp_path / "stereo.wav", WAV_24BIT)
    out = Collector()
    source = source_for(path, out)
    await play_to_end(source)
    assert source.stream_format == (44_100, 2)
    assert best_correlation(out.pcm, pcm, max_lag=200)[0] > 0.99


async def test_stop_midway_delivers_what_was_read_and_ends(tmp_path: Path) -> None:
    out = Collector()
    source = DecodedFileSource(FIXTURES / "library.wav", on_frame=out.frame, realtime=True)
    await source.start()
    await asyncio.wait_for(out.enough.wait(), 10)
    await source.stop()
    assert source.finished.is_set() and not source.completed
    assert source.position_ms < 5_000 and out.frames


async def test_back_pressure_is_awaited_before_every_piece(tmp_path: Path) -> None:
    out = Collector()
    calls = 0

    async def room() -> None:
        nonlocal calls
        calls += 1

    source = source_for(HELLO, out, room=room)
    await play_to_end(source)
    assert calls >= source.position_ms // WAKE_MS


async def test_the_meter_reads_each_piece_as_handed_over(tmp_path: Path) -> None:
    # The reader thread meters a whole block at once; the levels must be those of the very
    # pieces the loop then hands over (here an MP3: its blocks overshoot the second asked).
    pcm, rate = read_wav_s16(HELLO)
    path = encode(pcm, rate, tmp_path / "hello.mp3", MP3)
    handed: list[bytes] = []
    media = open_media_file(path)
    try:
        while pieces := read_pieces(media, len(handed), sum(map(len, handed))):
            for piece, level in pieces:
                assert level == level_of(piece)
                handed.append(piece)
    finally:
        media.close()
    assert len({len(piece) for piece in handed}) > 1  # irregular pieces at the blocks' ends
    # Through the source: one reading per piece that completed a frame, the piece's own.
    expected: list[Level] = []
    pending = 0
    for piece in handed:
        pending += len(piece)
        if pending >= FRAME_BYTES:
            expected.append(level_of(piece))
        pending %= FRAME_BYTES
    if pending:  # the end: the last part frame, padded, metered as it goes
        expected.append(level_of(b"".join(handed)[-pending:].ljust(FRAME_BYTES, b"\0")))
    out, levels = Collector(), list[Level]()
    source = DecodedFileSource(path, on_frame=out.frame, on_level=levels.append,
                               realtime=False)
    await play_to_end(source)
    assert levels == expected
    assert b"".join(out.frames).startswith(b"".join(handed))


# --- real-time pace: pieces handed over by loop timer callbacks ---------------------------


async def test_in_real_time_it_hands_over_the_same_audio_as_read_fast(tmp_path: Path) -> None:
    fast = Collector()
    await play_to_end(source_for(HELLO, fast))
    paced, rooms = Collector(), 0

    async def room() -> None:
        nonlocal rooms
        rooms += 1

    source = DecodedFileSource(HELLO, on_frame=paced.frame, on_error=paced.error,
                               on_progress=paced.moved, realtime=True, room=room)
    await play_to_end(source)
    assert source.completed and not paced.errors
    assert paced.frames == fast.frames
    assert [p for p, _ in paced.progress] == sorted(p for p, _ in paced.progress)
    assert paced.progress[-1][0] == source.position_ms == fast.progress[-1][0]
    assert rooms >= 4  # once per block: 3.14 s of audio is four blocks


async def test_in_real_time_a_read_error_is_said_and_what_was_read_is_kept(
    tmp_path: Path,
) -> None:
    pcm, rate = read_wav_s16(FIXTURES / "library.wav")
    path = encode(np.tile(pcm, 4), rate, tmp_path / "talk.flac", FLAC)
    out, rooms = Collector(), 0

    async def room() -> None:
        nonlocal rooms
        rooms += 1
        if rooms == 2:  # the block after this one is read from a stub (drive removed)
            os.truncate(path, 4096)

    source = DecodedFileSource(path, on_frame=out.frame, on_error=out.error,
                               on_progress=out.moved, realtime=True, room=room)
    await play_to_end(source)
    assert len(out.errors) == 1, out.errors
    assert out.errors[0].message.startswith("talk.flac changed while it was being read, after")
    assert not source.completed
    assert source.position_ms == out.progress[-1][0] > 0 and out.frames


async def test_in_real_time_a_consumer_that_raises_ends_the_playing() -> None:
    frames: list[bytes] = []

    def frame(data: bytes) -> None:
        if len(frames) == 3:
            raise RuntimeError("a bug downstream")
        frames.append(data)

    source = DecodedFileSource(HELLO, on_frame=frame, realtime=True)
    await source.start()
    await asyncio.wait_for(source.finished.wait(), 20)
    await source.stop()
    assert len(frames) == 3 and not source.completed


async def test_in_real_time_each_deadline_counts_from_the_start() -> None:
    # Started long ago: every deadline has passed, so each piece goes in the loop's next
    # pass, and each next deadline is start + pieces * WAKE_MS however late the last was.
    loop = asyncio.get_running_loop()
    started = loop.time() - 1000.0
    handed: list[int] = []
    pump = AudioPump(lambda frame: handed.append(len(frame)))
    paced = _PacedPieces(loop, started, pump, lambda sent: None)
    piece = bytes(WAKE_MS * 32)  # 100 ms of 16 kHz mono s16
    done = paced.hand_over([(piece, level_of(piece))] * 5)
    dues: list[float | None] = []
    while not done.done():
        dues.append(paced.next_due)
        await asyncio.sleep(0)  # one loop pass (the deadlines lie in the past): not a wait
    assert await done == 5 * len(piece) == paced.sent and paced.tick == 5
    assert sum(handed) == 5 * len(piece) and paced.next_due is None
    deadlines = [started + k * WAKE_MS / 1000 for k in range(6)]
    assert dues[0] == started and all(due is None or due in deadlines for due in dues)
    assert [due for due in dues if due is not None] == sorted(
        due for due in dues if due is not None)


# --- bad input: one plain sentence each, raised by start() before anything is delivered ------


async def start_error(path: Path) -> AudioError:
    out = Collector()
    source = source_for(path, out)
    with pytest.raises(AudioError) as caught:
        await source.start()
    assert not out.frames
    return caught.value


async def test_an_empty_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    error = await start_error(tmp_path / "empty.mp3")
    assert error.message == "empty.mp3 is empty (0 bytes)."


async def test_a_missing_file_says_so(tmp_path: Path) -> None:
    error = await start_error(tmp_path / "gone.flac")
    assert error.message == "gone.flac does not exist."


async def test_a_file_that_is_not_media_says_so(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_bytes(os.urandom(2048))
    error = await start_error(path)
    assert error.message == "notes.mp3 is not an audio or video file the app can read."


async def test_a_video_without_sound_says_it_has_no_audio_track(tmp_path: Path) -> None:
    error = await start_error(video_only(tmp_path / "silent-film.mp4"))
    assert error.message == "silent-film.mp4 has no audio track."


async def test_a_file_cut_short_while_read_says_so_and_keeps_what_was_read(
    tmp_path: Path,
) -> None:
    pcm, rate = read_wav_s16(FIXTURES / "library.wav")
    long_pcm = np.tile(pcm, 4)  # long enough that most of it is still unread
    path = encode(long_pcm, rate, tmp_path / "talk.flac", FLAC)
    out = Collector()

    async def room() -> None:
        if len(out.frames) == 10:  # early on: the file is replaced by a stub (drive removed)
            os.truncate(path, 4096)

    source = source_for(path, out, room=room)
    await play_to_end(source)
    assert len(out.errors) == 1, out.errors
    assert out.errors[0].message.startswith("talk.flac changed while it was being read, after")
    assert not source.completed
    assert 0 < source.position_ms < len(long_pcm) / rate * 1000 / 2


async def test_an_mp3_cut_short_before_it_was_opened_says_so_and_keeps_what_it_has(
    tmp_path: Path,
) -> None:
    """An unfinished download: MP3 decoders just stop where the bytes end, with no error;
    the length in the file's header tells."""
    pcm, rate = read_wav_s16(FIXTURES / "library.wav")
    whole = encode(np.tile(pcm, 6), rate, tmp_path / "whole.mp3", MP3)  # 28 s
    path = tmp_path / "lecture.mp3"
    path.write_bytes(whole.read_bytes()[:whole.stat().st_size // 3])
    out = Collector()
    source = source_for(path, out)
    await play_to_end(source)
    assert len(out.errors) == 1, out.errors
    assert out.errors[0].message == ("lecture.mp3 ends at 0:09, but it says it is 0:28 long: "
                                     "the file looks cut short.")
    assert not source.completed
    assert 9000 <= source.position_ms < 10_000
    assert len(out.frames) * FRAME_BYTES // 32 >= 9000  # the audio it has was all passed on
    # The whole file is read to its end with no error.
    out = Collector()
    source = source_for(whole, out)
    await play_to_end(source)
    assert out.errors == [] and source.completed
    # Without the header that counts its frames (an MP3's Xing/Info), the length is only the
    # demuxer's guess from the first frames' bit rate, which a VBR file can miss by far (here
    # a quiet 32 kbit/s start, then 320 kbit/s): no claim that it was cut short then.
    start = encode(pcm, rate, tmp_path / "start.mp3", MP3, bit_rate=32_000).read_bytes()
    rest = encode(np.tile(pcm, 3), rate, tmp_path / "rest.mp3", MP3, bit_rate=320_000)
    untagged = tmp_path / "untagged.mp3"
    rest_frames = rest.read_bytes()
    if rest_frames[:3] == b"ID3":  # its ID3v2 tag: mid-file it would read as damage
        rest_frames = rest_frames[10 + sum((b & 0x7F) << (7 * (3 - i))
                                           for i, b in enumerate(rest_frames[6:10])):]
    untagged.write_bytes((start + rest_frames).replace(b"Info", b"Junk"))
    out = Collector()
    source = source_for(untagged, out)
    await play_to_end(source)
    assert out.errors == [] and source.completed


async def test_a_file_deleted_while_read_is_still_read_to_its_end(tmp_path: Path) -> None:
    """On Linux an open file outlives its name: every word of it is still there to read."""
    pcm, rate = read_wav_s16(HELLO)
    path = encode(pcm, rate, tmp_path / "hello.flac", FLAC)
    out = Collector()

    async def room() -> None:
        if len(out.frames) == 5 and path.exists():
            path.unlink()

    source = source_for(path, out, room=room)
    await play_to_end(source)
    assert not out.errors and source.completed
    assert best_correlation(out.pcm, pcm, max_lag=10)[0] > 0.999
