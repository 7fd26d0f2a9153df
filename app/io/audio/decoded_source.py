"""Any common audio or video file played into the pipeline as if spoken into a microphone.

The same :class:`AudioSource` port as :class:`app.io.audio.file_source.WavFileSource` (frames,
levels and errors through the same callbacks and :class:`AudioPump`), but decoded with PyAV
(:mod:`app.io.audio.decoder`), so MP3, FLAC, OGG/Opus, M4A/AAC, the audio track of a video and
WAV of any sample format all work (a WAV already in the wire format is read as it is:
:mod:`app.io.audio.plain_wav`). Decoding runs in a worker thread one block at a time, and
so does cutting the block into the pieces the loop hands out and metering them
(:func:`read_pieces`); the loop only hands each piece over, so it never blocks.

Pacing as for the WAV source: ``realtime=True`` delivers 100 ms (``WAKE_MS``) per 100 ms of
loop time (each deadline computed from the start, so no drift); ``realtime=False`` goes as
fast as ``room`` (the consumer's back-pressure) allows, so nothing is dropped however slow the
engine is.

``position_ms``/``duration_ms`` say how far through the file's own timeline the delivered audio
is, for a progress bar and a time-left estimate; ``on_progress`` is called as it advances.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.audio import SAMPLE_RATE, SAMPLE_WIDTH, WAKE_MS
from app.core.errors import AudioError
from app.core.signal import Level, piece_sizes
from app.core.sources import ErrorSink, FrameSink, LevelSink
from app.io.audio.level import levels_of_pieces
from app.io.audio.playback import FilePlayback
from app.io.audio.pump import AudioPump

if TYPE_CHECKING:
    from app.io.audio.media_file import MediaFile

log = logging.getLogger(__name__)

_READ_BLOCK_MS = 1000  # decoded in a worker thread, about one second of audio at a time

ProgressSink = Callable[[int, int | None], None]


class DecodedFileSource(FilePlayback):
    """Delivers the audio of the media file ``path`` as 16 kHz mono 50 ms frames."""

    def __init__(
        self,
        path: Path,
        *,
        on_frame: FrameSink,
        on_level: LevelSink | None = None,
        on_error: ErrorSink | None = None,
        on_progress: ProgressSink | None = None,
        realtime: bool = True,
        room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``on_progress(position_ms, duration_ms)`` follows each piece; the rest as
        :class:`FilePlayback`."""
        super().__init__(path, on_frame=on_frame, on_level=on_level, on_error=on_error,
                         realtime=realtime, room=room)
        self._on_progress = on_progress
        self._file: MediaFile | None = None
        self._position_ms = 0
        self._sent = 0  # bytes handed to the pump
        self._completed = False

    @property
    def completed(self) -> bool:
        """The file was read to its end (not stopped early, no error)."""
        return self._completed

    @property
    def position_ms(self) -> int:
        """The file's timeline delivered so far."""
        return self._position_ms

    @property
    def duration_ms(self) -> int | None:
        """The audio's length: the header's figure while reading (``None`` if it has none),
        the exact length once read to the end."""
        if self._completed:
            return self._position_ms
        return None if self._file is None else self._file.duration_ms

    @property
    def stream_format(self) -> tuple[int, int] | None:
        """(rate, channels) of the file's audio track, once started."""
        return None if self._file is None else (self._file.source_rate,
                                                self._file.source_channels)

    async def start(self) -> None:
        """Open the file; raises :class:`AudioError` with the reason if it is unusable."""
        self._check_not_started()
        # PyAV (~20 MB resident) is loaded only when a file is opened: a microphone recording,
        # and the headless mode that imports this module, never pay for it.
        from app.io.audio.decoder import open_media_file

        self._file = await asyncio.to_thread(open_media_file, self.path)
        log.info("decoding %s (%s, %d Hz, %d ch, %s ms)", self.path.name, self._file.codec,
                 self._file.source_rate, self._file.source_channels, self._file.duration_ms)
        # The decoder already delivers the wire format: the pump only cuts frames and meters.
        self._pump = AudioPump(self._on_frame, self._on_level, in_rate=SAMPLE_RATE, channels=1)
        self._task = asyncio.create_task(self._play(self._file, self._pump),
                                         name="decoded-file-source")

    async def _play(self, media: MediaFile, pump: AudioPump) -> None:
        try:
            if self.realtime:
                await self._play_paced(media, pump)
            else:
                await self._play_fast(media, pump)
        except AudioError as exc:
            self._report(exc)
        finally:
            self._close_after_reads(media.close)
            pump.flush()
            self._advance(self._sent)
            self._finished.set()

    async def _play_fast(self, media: MediaFile, pump: AudioPump) -> None:
        """As fast as ``room`` allows, awaited before each piece."""
        pieces: list[tuple[bytes, Level]] = []
        index, tick = 0, 0
        while True:
            if index >= len(pieces):
                pieces, index = await self._read(read_pieces, media, tick, self._sent), 0
                if not pieces:
                    self._completed = True
                    return
            piece, level = pieces[index]
            index += 1
            tick += 1
            self._sent += len(piece)
            if self._room is not None:
                await self._room()
            if piece:
                pump.put_and_drain(piece, level)
            self._advance(self._sent)
            await asyncio.sleep(0)  # let the pump and the consumer run

    async def _play_paced(self, media: MediaFile, pump: AudioPump) -> None:
        """Real-time pace: piece ``k`` at ``start + k * WAKE_MS``, handed over by a loop timer
        callback (:class:`_PacedPieces`), so a hand-off costs one wake-up of the loop and no
        task switch. The reader thread decodes a block ahead and the loop only looks whether
        it is done, so a finished read wakes nobody. This task steps in once per block for
        ``room`` (awaited once per block: the pace already holds the file to real time), the
        next read and the end."""
        loop = asyncio.get_running_loop()
        paced = _PacedPieces(loop, loop.time(), pump, self._advance)
        ahead = self._reader.submit(read_pieces, media, 0, 0)
        try:
            while True:
                if self._room is not None:
                    await self._room()
                if not ahead.done():  # the reader is behind: wait for it (rare)
                    await asyncio.shield(asyncio.wrap_future(ahead))
                pieces = ahead.result()  # raises the read's AudioError
                if not pieces:
                    self._completed = True
                    return
                ahead = self._reader.submit(read_pieces, media, paced.tick + len(pieces),
                                            paced.sent + sum(len(p) for p, _ in pieces))
                await paced.hand_over(pieces)
        finally:
            paced.cancel()
            self._sent = paced.sent

    def _advance(self, sent_bytes: int) -> None:
        self._position_ms = sent_bytes // SAMPLE_WIDTH * 1000 // SAMPLE_RATE
        if self._on_progress is not None:
            self._on_progress(self._position_ms, self.duration_ms)


def read_pieces(media: MediaFile, tick: int, sent: int) -> list[tuple[bytes, Level]]:
    """The next block of ``media`` (reader thread), cut into the pieces the paced loop hands
    over after ``tick`` periods and ``sent`` bytes, each with its level: metered here, for the
    whole block in one pass, rather than once per piece on the loop's thread (where each
    100 ms hand-off finds numpy's caches cold). Empty at the end of the file."""
    block = media.read(_READ_BLOCK_MS)
    sizes = piece_sizes(len(block), tick, sent, SAMPLE_RATE, WAKE_MS)
    pieces: list[tuple[bytes, Level]] = []
    offset = 0
    for size, level in zip(sizes, levels_of_pieces(block, sizes), strict=True):
        pieces.append((block[offset : offset + size], level))
        offset += size
    return pieces


class _PacedPieces:
    """Hands pieces to the pump from loop timer callbacks at their deadlines, piece ``k`` of
    the file at ``started + k * WAKE_MS`` (each from the start, so no drift)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, started: float, pump: AudioPump,
                 advance: Callable[[int], None]) -> None:
        self._loop = loop
        self._started = started
        self._pump = pump
        self._advance = advance
        self.tick = 0  # pieces handed over
        self.sent = 0  # bytes handed over
        self._pieces: list[tuple[bytes, Level]] = []
        self._index = 0
        self._timer: asyncio.TimerHandle | None = None
        self._done: asyncio.Future[int] | None = None

    def hand_over(self, pieces: list[tuple[bytes, Level]]) -> asyncio.Future[int]:
        """Deliver ``pieces`` at their deadlines; the future is done (with ``sent``) once the
        last went, or with the exception a hand-off raised."""
        self._pieces, self._index = pieces, 0
        self._done = self._loop.create_future()
        self._next()
        return self._done

    @property
    def next_due(self) -> float | None:
        """The loop time the next piece is due at; None while none is waiting."""
        return None if self._timer is None else self._timer.when()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _step(self) -> None:
        self._timer = None
        done = self._done
        assert done is not None
        if done.done():
            return  # its awaiter was cancelled (stop): no more pieces
        try:
            piece, level = self._pieces[self._index]
            self._index += 1
            self.tick += 1
            self.sent += len(piece)
            if piece:
                self._pump.put_and_drain(piece, level)
            self._advance(self.sent)
        except Exception as exc:  # e.g. a consumer's bug: the playing task raises it
            done.set_exception(exc)
            return
        if self._index < len(self._pieces):
            self._next()
        else:
            done.set_result(self.sent)

    def _next(self) -> None:
        """The next piece at its deadline (in the loop's next pass if that has passed, so a
        late loop catches up without holding the loop for the whole backlog)."""
        self._timer = self._loop.call_at(self._started + self.tick * WAKE_MS / 1000,
                                         self._step)
