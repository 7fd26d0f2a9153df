"""Soak: an hour of speech through the recorder and the emulator, with the connection cut
every few minutes of audio. Reports lost and doubled words (both must be 0), dropped frames,
reconnect times (p50/max), peak RSS and RSS growth.

Run: ``.venv/bin/python -m benchmarks.soak [--minutes 60] [--speed 20] [--drop-every 300]``
(``tests/io/recording/test_soak.py`` runs two minutes of it in CI).

What runs is the app's own path from a file source on: ``WavFileSource`` (back-pressure) →
``Recorder`` (held audio, reconnects, replay) → ``StreamingSession`` (websockets) → the
emulator on loopback with the coded recogniser, which reads each word from the audio itself
(tests/support/coded_speech.py), so a lost or doubled word is visible; plus the journal
autosave. The service's pacing rule is scaled by ``--speed`` on both sides (the emulator's
throughput and the recorder's pacing), which is how an hour fits in a few minutes. The
emulator runs in the same process: its memory is part of the RSS figures.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from app.core.config import StreamingParams, endpoints_for
from app.core.errors import LiveTranscriberError
from app.core.ports import EventSink, TranscriptionEngine
from app.core.reconnect import ReconnectSettings
from app.core.recording import NoticeKind, RecorderState, RecordingNotice
from app.core.signal import Level
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.audio.file_source import WavFileSource
from app.io.cloud.session import StreamingOptions, StreamingSession
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.recorder import Recorder, RecorderOptions
from tests.emulator import CodedRecognizer, Emulator, EmulatorConfig, run_emulator
from tests.support.coded_speech import coded_words, write_coded_speech_wav

KEY = "soak-key"


@dataclass
class SoakResult:
    audio_minutes: float
    wall_seconds: float
    words_expected: int
    words_lost: int
    words_doubled: int
    dropped_frames: int
    lost_audio_ms: int
    disconnects: int
    reconnects: int
    reconnect_p50_s: float
    reconnect_max_s: float
    peak_rss_mb: float
    rss_growth_mb: float  # from the first reconnect (warm) to the end
    error: str


def script(minutes: float, seed: int = 7) -> list[list[int]]:
    """Sentences of 3-9 words, numbers cycling through the code's range, ~``minutes`` long."""
    rng = random.Random(seed)
    sentences: list[list[int]] = []
    number, total_ms = 0, 0
    while total_ms < minutes * 60_000:
        length = rng.randint(3, 9)
        sentences.append([(number + i) % 300 for i in range(length)])
        number = (number + length) % 300
        total_ms += length * 600 + 1000
    return sentences


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def count_errors(expected: list[str], heard: list[str]) -> tuple[int, int]:
    """(lost, doubled): words of ``expected`` missing from ``heard``, and extra words."""
    lost = doubled = 0
    matcher = difflib.SequenceMatcher(a=expected, b=heard, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            lost += a1 - a0
        if tag in ("insert", "replace"):
            doubled += b1 - b0
    return lost, doubled


class _Timings:
    """A listener that keeps only how long each outage lasted (from its first notice to the
    reconnect) and the first error: unlike the tests' RecordingLog it holds no levels or
    changes, so the RSS figures are the app's."""

    def __init__(self) -> None:
        self.errors: list[LiveTranscriberError] = []
        self.outage_began: float | None = None
        self.outages: list[float] = []
        self.warm_rss_mb: float | None = None  # after the first reconnect: every path has run

    def on_state(self, state: RecorderState) -> None:
        pass

    def on_transcript(self, change: TranscriptChange) -> None:
        pass

    def on_level(self, level: Level) -> None:
        pass

    def on_error(self, error: LiveTranscriberError) -> None:
        self.errors.append(error)

    def on_session(self, session_id: str) -> None:
        pass

    def on_notice(self, notice: RecordingNotice) -> None:
        now = time.monotonic()
        if notice.kind is NoticeKind.RECONNECTING and self.outage_began is None:
            self.outage_began = now
        elif notice.kind is NoticeKind.RECONNECTED and self.outage_began is not None:
            self.outages.append(now - self.outage_began)
            self.outage_began = None
            if self.warm_rss_mb is None:
                self.warm_rss_mb = rss_mb()


async def _cut_every(emu: Emulator, seconds: float, counter: list[int]) -> None:
    """Drop every open session every ``seconds`` of wall time (the accelerated equivalent of
    a network blip every few minutes of a real meeting)."""
    while True:
        await asyncio.sleep(seconds)  # the fault schedule itself, not a wait for a condition
        counter[0] += emu.drop_all()


async def run_soak(minutes: float, speed: float = 20.0, drop_every_s: float = 300.0,
                   folder: Path | None = None) -> SoakResult:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        where = folder or Path(tmp)
        sentences = script(minutes)
        wav = write_coded_speech_wav(where / "soak.wav", sentences)
        config = EmulatorConfig(
            api_keys=frozenset({KEY}),
            recognizer_factory=lambda params: CodedRecognizer(params.sample_rate),
            throughput_factor=speed * 1.25, max_ahead_seconds=300.0)
        options = RecorderOptions(reconnect=ReconnectSettings(base_delay_s=0.1, max_delay_s=1.0),
                                  throughput=speed * 1.25, max_ahead_ms=5_000)
        streaming = StreamingOptions(connect_timeout=5, begin_timeout=5, terminate_timeout=10)
        async with run_emulator(config) as emu:
            def engine(sink: EventSink) -> TranscriptionEngine:
                return StreamingSession(endpoints_for(override=emu.url), KEY,
                                        StreamingParams(), sink, options=streaming)

            def autosave(started: datetime, on_error: object) -> TranscriptAutosave:
                return TranscriptAutosave(where / "autosave.txt", on_error)  # type: ignore[arg-type]

            model, log = TranscriptModel(), _Timings()
            recorder = Recorder(model, log, autosave, options)

            def source(on_frame, on_level, on_error):  # type: ignore[no-untyped-def]
                return WavFileSource(wav, on_frame=on_frame, on_level=on_level,
                                     on_error=on_error, realtime=False,
                                     room=recorder.room_for_audio)

            cuts = [0]
            cutter = asyncio.create_task(_cut_every(emu, drop_every_s / speed, cuts))
            began = time.monotonic()
            error = await recorder.record(source, engine, asyncio.Event())
            wall = time.monotonic() - began
            cutter.cancel()
            await asyncio.gather(cutter, return_exceptions=True)
            rss_after = rss_mb()
        expected = coded_words(sentences)
        heard = re.findall(r"n\d{3}", " ".join(t.text for t in model.finals).lower())
        lost, doubled = count_errors(expected, heard)
        outages = log.outages or [0.0]
        return SoakResult(
            audio_minutes=round(minutes, 2), wall_seconds=round(wall, 1),
            words_expected=len(expected), words_lost=lost, words_doubled=doubled,
            dropped_frames=recorder.dropped_frames, lost_audio_ms=recorder.lost_ms,
            disconnects=cuts[0], reconnects=recorder.reconnects,
            reconnect_p50_s=round(statistics.median(outages), 3),
            reconnect_max_s=round(max(outages), 3),
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            rss_growth_mb=round(rss_after - (log.warm_rss_mb or rss_after), 1),
            error="" if error is None else str(error))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0, help="audio length")
    parser.add_argument("--speed", type=float, default=20.0, help="times real time")
    parser.add_argument("--drop-every", type=float, default=300.0, metavar="S",
                        help="cut the connection every S/SPEED seconds of wall time (about "
                        "every S seconds of audio)")
    args = parser.parse_args(argv)
    result = asyncio.run(run_soak(args.minutes, args.speed, args.drop_every))
    for name, value in asdict(result).items():
        print(f"{name:18} {value}")
    ok = (result.words_lost == 0 and result.words_doubled == 0 and not result.error
          and result.rss_growth_mb < 10)
    print("PASS" if ok else "FAIL", "(targets: 0 lost, 0 doubled, no error, RSS growth < 10 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
