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
throughput and the recorder's pacing), which is how an hour fits in a few minutes.

``--emulator-process`` (what ``run(smoke)``, i.e. ``make bench``, uses) runs the emulator and
its connection cuts in a child process (``--serve-emulator``), and writes the coded WAV in
another one, so the RSS and CPU figures are the app's alone; RSS and CPU are then sampled at
every minute of audio and reported per 10 minutes. Without it the emulator shares the process
(the CI test's way; its memory is then part of the RSS figures).
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
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
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
from benchmarks.emulator_process import EmulatorProcess, emulator_process, write_wav_in_child
from benchmarks.report import print_result, print_table
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
    start_rss_mb: float = 0.0
    end_rss_mb: float = 0.0
    cpu_s: float = 0.0
    emulator_in_child: bool = False
    samples: list[Sample] = field(default_factory=list)


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


@dataclass
class Sample:
    audio_minute: float
    wall_s: float
    rss_mb: float
    cpu_s: float  # user + sys of this process since the start
    emulator_rss_mb: float | None


class Sampler:
    """RSS and CPU of this process at every minute of audio handed to the recorder (sampled
    from the source's frame callback as each minute boundary passes, so no timer runs)."""

    def __init__(self, emulator: EmulatorProcess | None, every_ms: int = 60_000) -> None:
        self._emulator = emulator
        self._every_ms = every_ms
        self._audio_ms = 0.0
        self._next_ms = every_ms
        self._began = time.monotonic()
        self._cpu0 = _cpu_s()
        self.samples: list[Sample] = []
        self.take()

    def take(self) -> None:
        self.samples.append(Sample(
            self._audio_ms / 60_000, time.monotonic() - self._began, rss_mb(),
            _cpu_s() - self._cpu0,
            None if self._emulator is None else self._emulator.rss_mb()))

    def on_frame(self, frame: bytes) -> None:
        self._audio_ms += len(frame) / 32  # 16 kHz mono s16: 32 bytes per ms
        if self._audio_ms >= self._next_ms:
            self._next_ms += self._every_ms
            self.take()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@asynccontextmanager
async def _in_process_emulator(speed: float, drop_every_s: float
                               ) -> AsyncIterator[tuple[str, list[int]]]:
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: CodedRecognizer(params.sample_rate),
        throughput_factor=speed * 1.25, max_ahead_seconds=300.0)
    async with run_emulator(config) as emu:
        cuts = [0]
        cutter = asyncio.create_task(_cut_every(emu, drop_every_s / speed, cuts))
        try:
            yield emu.url, cuts
        finally:
            cutter.cancel()
            await asyncio.gather(cutter, return_exceptions=True)


async def run_soak(minutes: float, speed: float = 20.0, drop_every_s: float = 300.0,
                   folder: Path | None = None, *, emulator_in_child: bool = False
                   ) -> SoakResult:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        where = folder or Path(tmp)
        sentences = script(minutes)
        wav = where / "soak.wav"
        if emulator_in_child:
            await write_wav_in_child(wav, minutes, 7)
        else:
            write_coded_speech_wav(wav, sentences)
        options = RecorderOptions(reconnect=ReconnectSettings(base_delay_s=0.1, max_delay_s=1.0),
                                  throughput=speed * 1.25, max_ahead_ms=5_000)
        streaming = StreamingOptions(connect_timeout=5, begin_timeout=5, terminate_timeout=10)
        child: EmulatorProcess | None = None
        async with AsyncExitStack() as stack:
            if emulator_in_child:
                child = await stack.enter_async_context(
                    emulator_process(KEY, speed, drop_every_s / speed))
                url, cuts = child.url, [0]
            else:
                url, cuts = await stack.enter_async_context(
                    _in_process_emulator(speed, drop_every_s))

            def engine(sink: EventSink) -> TranscriptionEngine:
                return StreamingSession(endpoints_for(override=url), KEY,
                                        StreamingParams(), sink, options=streaming)

            def autosave(started: datetime, on_error: object) -> TranscriptAutosave:
                return TranscriptAutosave(where / "autosave.txt", on_error)  # type: ignore[arg-type]

            model, log = TranscriptModel(), _Timings()
            recorder = Recorder(model, log, autosave, options)
            sampler = Sampler(child)

            def source(on_frame, on_level, on_error):  # type: ignore[no-untyped-def]
                def counted(frame: bytes) -> None:
                    sampler.on_frame(frame)
                    on_frame(frame)
                return WavFileSource(wav, on_frame=counted, on_level=on_level,
                                     on_error=on_error, realtime=False,
                                     room=recorder.room_for_audio)

            began = time.monotonic()
            error = await recorder.record(source, engine, asyncio.Event())
            wall = time.monotonic() - began
            sampler.take()
            rss_after = rss_mb()
        disconnects = child.dropped if child is not None else cuts[0]
        expected = coded_words(sentences)
        heard = re.findall(r"n\d{3}", " ".join(t.text for t in model.finals).lower())
        lost, doubled = count_errors(expected, heard)
        outages = log.outages or [0.0]
        samples = sampler.samples
        return SoakResult(
            audio_minutes=round(minutes, 2), wall_seconds=round(wall, 1),
            words_expected=len(expected), words_lost=lost, words_doubled=doubled,
            dropped_frames=recorder.dropped_frames, lost_audio_ms=recorder.lost_ms,
            disconnects=disconnects, reconnects=recorder.reconnects,
            reconnect_p50_s=round(statistics.median(outages), 3),
            reconnect_max_s=round(max(outages), 3),
            peak_rss_mb=round(max(s.rss_mb for s in samples), 1),
            rss_growth_mb=round(rss_after - (log.warm_rss_mb or rss_after), 1),
            error="" if error is None else str(error),
            start_rss_mb=round(samples[0].rss_mb, 1), end_rss_mb=round(rss_after, 1),
            cpu_s=round(samples[-1].cpu_s, 2), emulator_in_child=emulator_in_child,
            samples=samples)


def per_ten_minutes(result: SoakResult) -> list[dict[str, object]]:
    """Rows: RSS at the end of each 10 minutes of audio (and the start), the CPU spent in
    those 10 minutes, and the CPU per streamed minute."""
    samples = result.samples
    marks = [samples[0]] + [s for s in samples[1:-1] if round(s.audio_minute) % 10 == 0]
    if samples[-1] not in marks:
        marks.append(samples[-1])
    rows: list[dict[str, object]] = []
    for previous, mark in zip([None, *marks[:-1]], marks, strict=True):
        audio = mark.audio_minute - (previous.audio_minute if previous else 0.0)
        cpu = mark.cpu_s - (previous.cpu_s if previous else 0.0)
        rows.append({
            "audio min": round(mark.audio_minute, 1),
            "wall s": round(mark.wall_s, 1),
            "app RSS MB": round(mark.rss_mb, 1),
            "app CPU s (interval)": round(cpu, 2),
            "app CPU s per audio min": round(cpu / audio, 3) if audio > 0 else None,
            "emulator RSS MB": (None if mark.emulator_rss_mb is None
                                else round(mark.emulator_rss_mb, 1)),
        })
    return rows


def run(smoke: bool = False) -> dict[str, object]:
    minutes, drop_every = (1.0, 20.0) if smoke else (60.0, 300.0)
    result = asyncio.run(run_soak(minutes, 20.0, drop_every, emulator_in_child=True))
    if result.error:
        raise RuntimeError(f"the soak recording failed: {result.error}")
    summary = {k: v for k, v in asdict(result).items() if k != "samples"}
    # The coded speech comes out a little shorter than the script's estimate: count what was
    # actually streamed.
    streamed_min = result.samples[-1].audio_minute
    return {
        "name": "soak",
        "rows": per_ten_minutes(result),
        "headline": {
            "RSS growth MB (warm to end)": result.rss_growth_mb,
            "RSS growth MB (start to end)": round(result.end_rss_mb - result.start_rss_mb, 1),
            "peak RSS MB": result.peak_rss_mb,
            "audio min streamed": round(streamed_min, 1),
            "app CPU s per audio min": round(result.cpu_s / streamed_min, 3),
            "words lost": result.words_lost, "words doubled": result.words_doubled,
            "reconnects": result.reconnects,
        },
        "notes": [
            f"{streamed_min:.1f} min of coded speech (scripted for {minutes:.0f}) through "
            "WavFileSource → Recorder (autosave on) → StreamingSession → the emulator in a "
            "child process, at 20x real time: the service's pacing rule (1.25x real time) "
            "is scaled by the same factor on both sides (the emulator's throughput_factor "
            "and the recorder's pacing).",
            f"The connection is dropped every {drop_every:.0f} s of audio (TCP abort, as a "
            "network drop); the recorder reconnects and replays held audio.",
            "RSS and CPU are this process's only (the emulator's RSS is shown apart); RSS "
            "growth is counted from the first reconnect (every code path warm) to the end; "
            "peak is the highest per-minute sample during the recording.",
            "Summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()),
        ],
        "plots": [{"x": "audio min", "y": ["app RSS MB"], "kind": "line",
                   "title": "App RSS over the soak", "ylabel": "MB"}],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0, help="audio length")
    parser.add_argument("--speed", type=float, default=20.0, help="times real time")
    parser.add_argument("--drop-every", type=float, default=300.0, metavar="S",
                        help="cut the connection every S/SPEED seconds of wall time (about "
                        "every S seconds of audio)")
    parser.add_argument("--emulator-process", action="store_true",
                        help="run the emulator in a child process: RSS and CPU are the app's")
    parser.add_argument("--smoke", action="store_true",
                        help="what make bench runs, one minute (implies --emulator-process)")
    args = parser.parse_args(argv)
    if args.smoke:
        print_result(run(smoke=True))
        return 0
    result = asyncio.run(run_soak(args.minutes, args.speed, args.drop_every,
                                  emulator_in_child=args.emulator_process))
    for name, value in asdict(result).items():
        if name != "samples":
            print(f"{name:18} {value}")
    print_table(per_ten_minutes(result))
    ok = (result.words_lost == 0 and result.words_doubled == 0 and not result.error
          and result.rss_growth_mb < 10)
    print("PASS" if ok else "FAIL", "(targets: 0 lost, 0 doubled, no error, RSS growth < 10 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
