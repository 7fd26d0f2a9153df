"""Transcript latency: a ``Turn`` leaving the emulator → its text painted in the pane.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_transcript_latency
[--smoke] [--seconds 30] [--fills 0,1000,10000]``

For each fill (turns already shown in the pane when the recording starts) a shown 800x500
window holds the app's :class:`TranscriptView`, on a qasync loop as the app runs, and the
app's own path records into it: ``WavFileSource`` (speech fixtures, real time) → ``Recorder``
(with the journal autosave) → ``StreamingSession`` (websockets, a real loopback socket) → the
emulator (``ScriptedRecognizer``: a partial every 200 ms of audio, a final per sentence, the
2025 two-message formatted turn end). The window's listener does what ``MainWindow`` does with
each change: ``view.apply(change)``; Qt paints on its own schedule.

Clocks, all ``perf_counter_ns`` in this one process:

* ``sent``     in the emulator, just before ``ws.send`` of the Turn's JSON (its session's
               ``send_raw``, wrapped by this benchmark only);
* ``received`` the session hands the decoded ``Turn`` to the recorder (the engine's sink);
* ``painted``  the end of the view's next ``paintEvent`` (a subclass that only adds the stamp).

Latency = painted − sent, per message that changed the transcript (a message that changes
nothing paints nothing and is counted apart). Several messages arriving between two paints all
get that paint's time: that is when their text became visible. The emulator runs on a thread
of this process (``EmulatorThread``), so it shares the GIL with the app: on a real network the
emulator's share of the CPU is elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import wave
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import StreamingParams, endpoints_for
from app.core.errors import ExportError, LiveTranscriberError
from app.core.messages import Turn
from app.core.ports import EngineEvent, EventSink, TranscriptionEngine
from app.core.recording import RecorderState, RecordingNotice
from app.core.signal import Level
from app.core.transcript import TranscriptChange, TranscriptModel
from app.io.audio.file_source import WavFileSource
from app.io.cloud.session import StreamingSession
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.recorder import Recorder
from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer
from tests.emulator import session as emulator_session

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
KEY = "latency-bench-key"
WINDOW = (800, 500)
MessageKey = tuple[int, bool, bool, int]  # turn_order, end_of_turn, formatted, word count


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (unsorted is fine)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def speech_wav(folder: Path, seconds: float) -> Path:
    """The speech fixtures back to back for ``seconds`` (the recogniser ignores the audio;
    real speech keeps the level meter and the pacing as in a recording)."""
    pieces: list[bytes] = []
    total = 0
    while total < seconds * 32_000:
        for name in ("hello.wav", "weather.wav"):
            with wave.open(str(FIXTURES / name), "rb") as wav:
                pieces.append(wav.readframes(wav.getnframes()))
                total += len(pieces[-1])
    path = folder / "speech.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"".join(pieces)[: int(seconds * 16_000) * 2])
    return path


def sentences(count: int, seed: int) -> list[str]:
    from benchmarks.bench_transcript_view import VOCABULARY

    rng = random.Random(seed)
    return [" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 12)))
            for _ in range(count)]


def prefilled(turns: int, seed: int) -> TranscriptModel:
    """A model holding ``turns`` finals (as if shown earlier in this session)."""
    from benchmarks.bench_transcript_view import script

    model = TranscriptModel()
    for _, messages in script(turns, seed):
        model.apply(messages[-1])
    return model


# --- the stamps --------------------------------------------------------------------------------

def message_key(message: dict[str, Any] | Turn) -> MessageKey:
    if isinstance(message, Turn):
        return (message.turn_order, message.end_of_turn, message.turn_is_formatted,
                len(message.words))
    return (int(message["turn_order"]), bool(message["end_of_turn"]),
            bool(message.get("turn_is_formatted", False)), len(message.get("words", [])))


@dataclass
class Stamps:
    sent: dict[MessageKey, int] = field(default_factory=dict)
    received: dict[MessageKey, int] = field(default_factory=dict)
    applied: dict[MessageKey, int] = field(default_factory=dict)
    painted: dict[MessageKey, int] = field(default_factory=dict)
    unchanged: int = 0  # messages after which the model had nothing new to show
    current: MessageKey | None = None  # the message the recorder is applying now
    waiting_paint: list[MessageKey] = field(default_factory=list)


@contextmanager
def stamping_emulator_sends(stamps: Stamps) -> Iterator[None]:
    """Wrap the emulator sessions' ``send_raw`` to stamp each Turn just before it is sent."""
    original = emulator_session.SessionBase.send_raw

    async def send_raw(self: emulator_session.SessionBase, text: str) -> bool:
        if '"Turn"' in text:
            message = json.loads(text)
            if message.get("type") == "Turn":
                stamps.sent.setdefault(message_key(message), time.perf_counter_ns())
        return await original(self, text)

    emulator_session.SessionBase.send_raw = send_raw  # type: ignore[method-assign]
    try:
        yield
    finally:
        emulator_session.SessionBase.send_raw = original  # type: ignore[method-assign]


# --- one run -----------------------------------------------------------------------------------

class Listener:
    """What the window does with a recording's events, for the transcript: ``apply``."""

    def __init__(self, view: Any, stamps: Stamps) -> None:
        self._view = view
        self._stamps = stamps
        self.errors: list[LiveTranscriberError] = []

    def on_state(self, state: RecorderState) -> None:
        pass

    def on_transcript(self, change: TranscriptChange) -> None:
        self._view.apply(change)
        key = self._stamps.current
        if key is not None and key not in self._stamps.applied:
            self._stamps.applied[key] = time.perf_counter_ns()
            self._stamps.waiting_paint.append(key)

    def on_level(self, level: Level) -> None:
        pass

    def on_error(self, error: LiveTranscriberError) -> None:
        self.errors.append(error)

    def on_session(self, session_id: str) -> None:
        pass

    def on_notice(self, notice: RecordingNotice) -> None:
        pass


def stamping_sink(sink: EventSink, stamps: Stamps) -> EventSink:
    def forward(event: EngineEvent) -> None:
        if not isinstance(event, Turn):
            sink(event)
            return
        key = message_key(event)
        stamps.received.setdefault(key, time.perf_counter_ns())
        stamps.current = key
        applied_before = len(stamps.applied)
        sink(event)
        stamps.current = None
        if len(stamps.applied) == applied_before and key not in stamps.applied:
            stamps.unchanged += 1
    return forward


@dataclass
class FillRun:
    fill: int
    latencies_ms: list[float]
    socket_ms: list[float]  # sent → received
    paint_wait_ms: list[float]  # applied → painted
    unchanged: int
    unpainted: int
    blocks: int
    error: str


def run_fill(fill: int, seconds: float, seed: int, folder: Path) -> FillRun:
    import qasync
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from app.ui.transcript_view import TranscriptView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    stamps = Stamps()

    class PaintStampedView(TranscriptView):
        def paintEvent(self, event: Any) -> None:
            super().paintEvent(event)
            if stamps.waiting_paint:
                now = time.perf_counter_ns()
                for key in stamps.waiting_paint:
                    stamps.painted[key] = now
                stamps.waiting_paint.clear()

    model = prefilled(fill, seed)
    window = QWidget()
    view = PaintStampedView(model)
    QVBoxLayout(window).addWidget(view)
    window.resize(*WINDOW)
    window.show()
    if not QTest.qWaitForWindowExposed(window):
        raise RuntimeError("the window was never exposed")
    speech = speech_wav(folder, seconds)
    config = EmulatorConfig(api_keys=frozenset({KEY}), recognizer_factory=lambda params:
                            ScriptedRecognizer(sentences(400, seed), ms_per_word=200))
    listener = Listener(view, stamps)

    def autosave(started: object, on_error: Callable[[ExportError], None]
                 ) -> TranscriptAutosave:
        return TranscriptAutosave(folder / f"autosave-{fill}.txt", on_error)

    recorder = Recorder(model, listener, autosave)

    with stamping_emulator_sends(stamps), EmulatorThread(config) as emu:
        def engine(sink: EventSink) -> TranscriptionEngine:
            return StreamingSession(endpoints_for(override=emu.url), KEY, StreamingParams(),
                                    stamping_sink(sink, stamps))

        def source(on_frame: Any, on_level: Any, on_error: Any) -> WavFileSource:
            return WavFileSource(speech, on_frame=on_frame, on_level=on_level,
                                 on_error=on_error, realtime=True)

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            recorded: Awaitable[LiveTranscriberError | None] = recorder.record(
                source, engine, asyncio.Event())
            error = loop.run_until_complete(asyncio.wait_for(recorded, seconds + 60))
            # The last message's paint: let Qt deliver the pending update.
            for _ in range(100):
                if not stamps.waiting_paint:
                    break
                app.processEvents()
        finally:
            loop.close()
            asyncio.set_event_loop(None)
    blocks = view.document().blockCount()
    window.close()
    window.deleteLater()
    app.processEvents()
    keys = [k for k in stamps.painted if k in stamps.sent]
    return FillRun(
        fill=fill,
        latencies_ms=[(stamps.painted[k] - stamps.sent[k]) / 1e6 for k in keys],
        socket_ms=[(stamps.received[k] - stamps.sent[k]) / 1e6 for k in keys
                   if k in stamps.received],
        paint_wait_ms=[(stamps.painted[k] - stamps.applied[k]) / 1e6 for k in keys],
        unchanged=stamps.unchanged, unpainted=len(stamps.waiting_paint), blocks=blocks,
        error="" if error is None and not listener.errors
        else str(error or listener.errors[0]))


def row(run: FillRun) -> dict[str, object]:
    lat = run.latencies_ms
    return {
        "turns shown": run.fill,
        "messages": len(lat),
        "p50 ms": round(percentile(lat, 0.5), 3) if lat else None,
        "p99 ms": round(percentile(lat, 0.99), 3) if lat else None,
        "max ms": round(max(lat), 3) if lat else None,
        "socket p50 ms": round(percentile(run.socket_ms, 0.5), 3) if run.socket_ms else None,
        "to paint p50 ms": (round(percentile(run.paint_wait_ms, 0.5), 3)
                            if run.paint_wait_ms else None),
        "unchanged": run.unchanged,
        "unpainted": run.unpainted,
        "blocks at end": run.blocks,
    }


def run(smoke: bool = False, seconds: float | None = None,
        fills: tuple[int, ...] | None = None, seed: int = 7) -> dict[str, object]:
    seconds = seconds if seconds is not None else (2.5 if smoke else 60.0)
    fills = fills if fills is not None else ((0, 1_000) if smoke else (0, 1_000, 10_000))
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        runs = [run_fill(fill, seconds, seed, Path(tmp)) for fill in fills]
    rows = [row(r) for r in runs]
    errors = [f"fill {r.fill}: {r.error}" for r in runs if r.error]
    if errors:
        raise RuntimeError("a recording failed: " + "; ".join(errors))
    headline: dict[str, object] = {}
    for r in rows:
        headline[f"p50 ms at {r['turns shown']} turns"] = r["p50 ms"]
        headline[f"p99 ms at {r['turns shown']} turns"] = r["p99 ms"]
    return {
        "name": "transcript_latency",
        "rows": rows,
        "headline": headline,
        "notes": [
            f"{seconds:.0f} s of speech per fill at real time; a partial every 200 ms of audio "
            "and a final (two messages: unformatted, formatted) per sentence of 3-12 words.",
            "Latency: the emulator's ws.send of the Turn → the end of the pane's next "
            "paintEvent (offscreen Qt, qasync loop); socket = ws.send → the session hands the "
            "decoded Turn on; to paint = view.apply → painted.",
            "The emulator runs on a thread of the measured process (it shares the GIL).",
        ],
        "plots": [{"x": "turns shown", "y": ["p50 ms", "p99 ms"], "kind": "bar",
                   "title": "Turn sent → text painted", "ylabel": "ms"}],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--seconds", type=float, default=None, help="speech per fill")
    parser.add_argument("--fills", default=None, help="comma-separated, e.g. 0,1000,10000")
    args = parser.parse_args(argv)
    fills = tuple(int(f) for f in args.fills.split(",")) if args.fills else None
    from benchmarks.report import print_result

    print_result(run(args.smoke, args.seconds, fills))
    return 0


if __name__ == "__main__":
    sys.exit(main())
