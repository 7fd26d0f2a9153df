"""A WAV file played into the pipeline as if someone were speaking it into a microphone.

Same shape as :class:`app.io.audio.capture.PyAudioCapture` (the :class:`AudioSource` port): frames,
levels and errors reach the same callbacks, through the same :class:`AudioPump`, so a file of
any rate and channel count comes out as 16 kHz mono 50 ms frames. Used by the headless mode,
tests and benchmarks.

Pacing: ``realtime=True`` hands the pump 50 ms of the file every 50 ms of loop time, each
period's deadline computed from the start (``start + k * 50 ms``), so scheduling jitter never
accumulates into drift. ``realtime=False`` goes as fast as the loop allows, yielding to it after
every period's worth so the consumer and the rest of the app keep running.
"""

from __future__ import annotations

import asyncio
import logging
import wave
from pathlib import Path

from app.core.audio import SAMPLE_WIDTH, WAKE_MS
from app.core.errors import AudioError
from app.core.signal import frames_due, to_s16
from app.io.audio.playback import FilePlayback
from app.io.audio.pump import AudioPump

log = logging.getLogger(__name__)

_READ_BLOCK_MS = 1000  # file reads run in a worker thread, one second of audio at a time
_SUPPORTED_WIDTHS = (1, 2, 3, 4)


class WavFileSource(FilePlayback):
    """Delivers the integer-PCM WAV file ``path`` (8/16/24/32-bit, any rate and channels)."""

    @property
    def stream_format(self) -> tuple[int, int] | None:
        """(rate, channels) of the file being played."""
        return None if self._pump is None else (self._pump.in_rate, self._pump.channels)

    async def start(self) -> None:
        """Open the file and start delivering; raises :class:`AudioError` if it is unusable."""
        self._check_not_started()
        wav = await asyncio.to_thread(_open_wav, self.path)
        self._pump = AudioPump(self._on_frame, self._on_level, in_rate=wav.getframerate(),
                               channels=wav.getnchannels())
        self._task = asyncio.create_task(self._play(wav, self._pump), name="wav-file-source")

    async def _play(self, wav: wave.Wave_read, pump: AudioPump) -> None:
        loop = asyncio.get_running_loop()
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        bytes_per_frame = SAMPLE_WIDTH * channels
        block_frames = rate * _READ_BLOCK_MS // 1000
        block, offset, sent_frames, tick = b"", 0, 0, 0
        started = loop.time()
        try:
            while True:
                if offset >= len(block):
                    raw = await self._read(wav.readframes, block_frames)
                    if not raw:
                        break
                    usable = len(raw) - len(raw) % (width * channels)
                    if usable < len(raw):  # a truncated file ends mid-sample: drop the stub
                        log.info("%s ends with %d stray bytes", self.path.name,
                                 len(raw) - usable)
                        raw = raw[:usable]
                        if not raw:
                            break
                    block, offset = to_s16(raw, width), 0
                tick += 1
                # How far the whole file should have got after ``tick`` periods, so a rate
                # that does not divide 50 ms evenly never drifts.
                want = frames_due(tick, rate, WAKE_MS) - sent_frames
                piece = block[offset : offset + want * bytes_per_frame]
                offset += len(piece)
                sent_frames += len(piece) // bytes_per_frame
                if self._room is not None:
                    await self._room()
                if piece:
                    pump.put_and_drain(piece)
                if self.realtime:
                    delay = started + tick * WAKE_MS / 1000 - loop.time()
                    await asyncio.sleep(max(0.0, delay))  # pacing, as a microphone would
                else:
                    await asyncio.sleep(0)  # let the pump and the consumer run
        except (OSError, EOFError, wave.Error, ValueError) as exc:
            self._report(AudioError(f"Reading {self.path.name} failed ({exc}).",
                                    remedy="Check the file and try again.", detail=str(exc)))
        finally:
            self._close_after_reads(wav.close)
            pump.flush()
            self._finished.set()


def _open_wav(path: Path) -> wave.Wave_read:
    try:
        wav = wave.open(str(path), "rb")
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"{path.name} could not be read as a WAV file ({exc}).",
                         remedy="Choose an uncompressed PCM WAV file.", detail=str(exc)) from None
    width = wav.getsampwidth()
    if width not in _SUPPORTED_WIDTHS or wav.getnchannels() < 1 or wav.getframerate() <= 0:
        wav.close()
        raise AudioError(f"{path.name} has a sample format the app cannot read "
                         f"({8 * width}-bit).",
                         remedy="Convert it to 16-bit PCM, e.g. sox in.wav -b 16 out.wav.")
    return wav
