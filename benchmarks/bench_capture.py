"""The capture hot path, measured against real PortAudio and a private PulseAudio server.

Run: ``.venv/bin/python -m benchmarks.bench_capture [--seconds 10 | --smoke]``
(``run(smoke)`` returns the figures as a result for ``make bench``)

Plays ~10 s of the speech fixtures into a virtual microphone (the recipe of
tests/support/pulse.py) while each of these records it, one after the other, in one process:

* ``bare callback``   a PyAudio callback that only returns: the floor of the measurement;
* ``bare hop``        a callback that only does ``call_soon_threadsafe``: the cost of the
                      thread hop alone;
* ``capture 16k``     PyAudioCapture on the 16 kHz mono default mic (the wire format);
* ``capture 48k st``  PyAudioCapture on a 48 kHz stereo source opened natively, so the pump
                      downmixes and resamples on the loop.

Printed per run: callback duration p50/p99 (perf_counter_ns around the callback body, kept in
preallocated arrays: the only allocations measuring adds are the ints the clock returns),
callback -> pump latency p50/p99 (timestamp in the callback vs. arrival on the loop, paired in
FIFO order), callbacks counted, 50 ms frames delivered, sample frames dropped, overflows.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import wave
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyaudio

from app.core.devices import InputDevice
from app.io.audio.capture import PyAudioCapture
from app.io.audio.portaudio_stream import StreamCallback
from app.io.audio.pump import AudioPump
from tests.support.pulse import PulseServer, VirtualSink

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CAPACITY = 4096  # callbacks recorded per run: 10 s at 50 ms is 200; room for longer runs
CONTINUE = (None, int(pyaudio.paContinue))


class CallbackTimer:
    """Times a callback into preallocated arrays; ``receipts`` is filled on the loop side."""

    def __init__(self) -> None:
        self.starts = array("q", bytes(8 * CAPACITY))
        self.durations = array("q", bytes(8 * CAPACITY))
        self.receipts = array("q", bytes(8 * CAPACITY))
        self.calls = 0
        self.received = 0
        self.overflows = 0

    def wrap(self, body: StreamCallback) -> StreamCallback:
        starts, durations, clock = self.starts, self.durations, time.perf_counter_ns

        def timed(in_data: bytes, frame_count: int, time_info: Mapping[str, float],
                  status: int) -> tuple[None, int]:
            began = clock()
            result = body(in_data, frame_count, time_info, status)
            index = self.calls
            if index < CAPACITY:
                durations[index] = clock() - began
                starts[index] = began
            self.calls = index + 1
            return result

        return timed

    def receive(self) -> None:
        """Call on the loop when a callback's data arrives."""
        index = self.received
        if index < CAPACITY:
            self.receipts[index] = time.perf_counter_ns()
        self.received = index + 1


@dataclass
class RunResult:
    name: str
    timer: CallbackTimer
    frames: int = 0
    dropped: int = 0
    overflows: int = 0

    def row(self) -> str:
        n = min(self.timer.calls, CAPACITY)
        durations = sorted(self.timer.durations[:n])
        m = min(self.timer.received, n)
        latencies = sorted(self.timer.receipts[i] - self.timer.starts[i] for i in range(m))

        def pct(values: list[int], q: float) -> str:
            return f"{values[min(len(values) - 1, int(q * len(values)))] / 1000:8.1f}" \
                if values else "       -"

        return (f"{self.name:<16}{pct(durations, 0.5)}{pct(durations, 0.99)}"
                f"{pct(latencies, 0.5)}{pct(latencies, 0.99)}{self.timer.calls:>8}"
                f"{self.frames:>8}{self.dropped:>9}{self.overflows:>6}")


    def as_row(self) -> dict[str, object]:
        """The same figures as :meth:`row`, in microseconds, for benchmarks/report.py."""
        n = min(self.timer.calls, CAPACITY)
        durations = sorted(self.timer.durations[:n])
        m = min(self.timer.received, n)
        latencies = sorted(self.timer.receipts[i] - self.timer.starts[i] for i in range(m))

        def pct(values: list[int], q: float) -> float | None:
            return round(values[min(len(values) - 1, int(q * len(values)))] / 1000, 1) \
                if values else None

        return {"run": self.name, "callback p50 us": pct(durations, 0.5),
                "callback p99 us": pct(durations, 0.99), "to loop p50 us": pct(latencies, 0.5),
                "to loop p99 us": pct(latencies, 0.99), "callbacks": self.timer.calls,
                "frames": self.frames, "dropped": self.dropped, "overflows": self.overflows}


HEADER = (f"{'run':<16}{'cb p50':>8}{'cb p99':>8}{'lat p50':>8}{'lat p99':>8}{'calls':>8}"
          f"{'frames':>8}{'dropped':>9}{'ovfl':>6}   (times in us)")


def speech_file(folder: Path, seconds: float) -> Path:
    """The fixtures back to back until ``seconds`` of speech, as one WAV for one paplay."""
    pieces: list[bytes] = []
    total = 0
    while total < seconds * 16_000 * 2:
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


async def play(server: PulseServer, speech: Path, sink: VirtualSink) -> None:
    player = server.play(speech, sink)
    try:
        await asyncio.to_thread(player.wait, 120)
    finally:
        if player.poll() is None:
            player.kill()
        if player.stderr is not None:
            player.stderr.close()


async def bare_run(server: PulseServer, speech: Path, sink: VirtualSink, *, hop: bool) -> RunResult:
    loop = asyncio.get_running_loop()
    timer = CallbackTimer()
    call_soon_threadsafe, receive = loop.call_soon_threadsafe, timer.receive

    def bare(in_data: bytes, frame_count: int, time_info: Mapping[str, float],
             status: int) -> tuple[None, int]:
        if hop:
            call_soon_threadsafe(receive)
        return CONTINUE

    def open_stream() -> tuple[pyaudio.PyAudio, pyaudio.PyAudio.Stream]:
        audio = pyaudio.PyAudio()
        stream = audio.open(format=pyaudio.paInt16, channels=1, rate=16_000, input=True,
                            frames_per_buffer=800, stream_callback=timer.wrap(bare))
        return audio, stream

    audio, stream = await asyncio.to_thread(open_stream)
    try:
        await play(server, speech, sink)
    finally:
        await asyncio.to_thread(stream.stop_stream)
        await asyncio.to_thread(stream.close)
        await asyncio.to_thread(audio.terminate)
    return RunResult("bare hop" if hop else "bare callback", timer)


class TimedPump(AudioPump):
    timer: CallbackTimer

    def put(self, data: bytes) -> None:
        self.timer.receive()
        super().put(data)


class TimedCapture(PyAudioCapture):
    """PyAudioCapture with its callback wrapped and its pump stamping arrivals."""

    def __init__(self, device: InputDevice | None, timer: CallbackTimer, **options: Any) -> None:
        super().__init__(device, **options)
        self.timer = timer

    def _create_pump(self, rate: int, channels: int) -> AudioPump:
        pump = TimedPump(self._on_frame, self._on_level, in_rate=rate, channels=channels,
                         loop=self._loop)
        pump.timer = self.timer
        return pump

    def _make_callback(self, rate: int, channels: int) -> StreamCallback:
        return self.timer.wrap(super()._make_callback(rate, channels))


async def capture_run(server: PulseServer, speech: Path, sink: VirtualSink, name: str,
                      device: InputDevice | None, *, native: bool) -> RunResult:
    frames = 0

    def on_frame(_: bytes) -> None:
        nonlocal frames
        frames += 1

    capture = TimedCapture(device, CallbackTimer(), on_frame=on_frame,
                           on_level=lambda _: None, prefer_wire_format=not native)
    await capture.start()
    try:
        await play(server, speech, sink)
    finally:
        await capture.stop()
    fmt = capture.stream_format
    return RunResult(f"{name} {fmt[0] // 1000 if fmt else '?'}k x{fmt[1] if fmt else '?'}",
                     capture.timer, frames, capture.dropped_frames, capture.overflows)


async def run_all(server: PulseServer, seconds: float, folder: Path) -> list[RunResult]:
    speech = speech_file(folder, seconds)
    mic = VirtualSink("vspeaker", -1, 16_000, 1)
    results = [await bare_run(server, speech, mic, hop=False),
               await bare_run(server, speech, mic, hop=True),
               await capture_run(server, speech, mic, "capture", None, native=False)]
    stereo = server.load_sink("vbench48", rate=48_000, channels=2)
    try:
        device = InputDevice(id=stereo.monitor, name="bench 48k", host_api="PulseAudio",
                             channels=2, default_rate=48_000, is_monitor=True)
        results.append(await capture_run(server, speech, stereo, "capture", device,
                                         native=True))
    finally:
        server.unload(stereo)
    return results


def measure(seconds: float) -> list[RunResult]:
    """Every run, on a private PulseAudio server started and stopped here."""
    folder = Path(tempfile.mkdtemp(prefix="lt-bench-"))
    server = PulseServer(folder)
    try:
        with server.serving():
            server.set_default_source(server.load_sink("vspeaker").monitor)
            return asyncio.run(run_all(server, seconds, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(smoke: bool = False) -> dict[str, object]:
    """The benchmark as a result for ``make bench`` (smoke: 1 s of speech per run)."""
    seconds = 1.0 if smoke else 10.0
    rows = [result.as_row() for result in measure(seconds)]
    capture = next(r for r in rows if str(r["run"]).startswith("capture 16k"))
    return {
        "name": "capture",
        "rows": rows,
        "headline": {"capture 16k callback p99 us": capture["callback p99 us"],
                     "capture 16k to loop p99 us": capture["to loop p99 us"],
                     "capture 16k dropped": capture["dropped"]},
        "notes": [f"{seconds:.0f} s of speech per run played into a virtual microphone of a "
                  "private PulseAudio server; PortAudio callback duration, and callback → "
                  "arrival on the asyncio loop (bare: the floor of the measurement)."],
        "plots": [{"x": "run", "y": ["callback p99 us", "to loop p99 us"], "kind": "bar",
                   "title": "Capture: PortAudio callback and hop to the loop (p99)",
                   "ylabel": "µs"}],
    }


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=10.0, help="speech per run")
    parser.add_argument("--smoke", action="store_true", help="1 s per run, as a result table")
    args = parser.parse_args(argv)
    if args.smoke:
        from benchmarks.report import print_result

        print_result(run(smoke=True), out=out)
        return
    results = measure(args.seconds)
    out(HEADER)
    for result in results:
        out(result.row())


if __name__ == "__main__":
    main()
