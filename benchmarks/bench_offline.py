"""The offline engine live: latency, accuracy, CPU and memory on this machine.

Run: ``.venv/bin/python -m benchmarks.bench_offline [--fixtures library notebook ...]``

Each speech fixture (tests/fixtures, flite ``rms`` voice) is streamed through
:class:`app.io.offline.engine.OfflineEngine` at real-time pace, 50 ms frames on deadlines taken
from the loop's clock (as a microphone delivers them), with 1 s of silence before and 1.5 s
after the speech. Printed per fixture and overall:

* partial latency: speech onset (Silero VAD on the file) → first partial Turn on the loop;
* final latency: end of speech → the final Turn (end_of_turn) on the loop;
* WER of the streamed finals and of one one-shot decode of the same audio (same model and
  decode parameters), and the difference;
* decodes and the longest one; CPU share: process CPU time / wall time while streaming (2.0
  means both cores busy);
* peak RSS of the process (model loaded).

Targets from issue 6: partial ≤ 2 s, final ≤ 2.5 s after end of speech, streaming WER within
+0.03 of one-shot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.messages import Turn
from app.core.ports import EngineEvent
from app.io.offline.engine import OfflineEngine
from app.io.offline.model import WhisperModelLoader, WhisperRecogniser
from tests.support.speech import OFFLINE_FIXTURES, SpeechFixture, load_fixture, word_error_rate

FRAME_BYTES = 1600  # 50 ms
LEAD_MS = 1000
TRAIL_MS = 1500


@dataclass(frozen=True)
class Run:
    name: str
    partial_latency: float
    final_latency: float
    streamed: str
    one_shot: str
    reference: str
    decodes: int
    longest_decode: float
    cpu_share: float


def _audio(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


async def stream_live(recogniser: WhisperRecogniser, fixture: SpeechFixture) -> Run:
    spans = recogniser.speech_spans(_audio(fixture.pcm), min_silence_ms=500)
    onset_ms, end_ms = LEAD_MS + spans[0].start_ms, LEAD_MS + spans[-1].end_ms
    pcm = bytes(LEAD_MS * 32) + fixture.pcm + bytes(TRAIL_MS * 32)
    loop = asyncio.get_running_loop()
    events: list[tuple[float, EngineEvent]] = []
    engine = OfflineEngine(WhisperModelLoader(), lambda e: events.append((loop.time(), e)))
    await engine.start()
    cpu0, wall0 = os.times(), loop.time()
    for index, offset in enumerate(range(0, len(pcm), FRAME_BYTES)):
        deadline = wall0 + index * 0.05
        if deadline > loop.time():
            await asyncio.sleep(deadline - loop.time())  # pacing like a microphone
        engine.send_audio(pcm[offset:offset + FRAME_BYTES])
    await engine.stop()
    cpu1, wall1 = os.times(), loop.time()
    turns = [(t, e) for t, e in events if isinstance(e, Turn)]
    first_partial = next(t for t, e in turns if not e.end_of_turn)
    final = next(t for t, e in turns if e.end_of_turn)
    stats = engine.stats
    assert stats is not None
    return Run(
        name=fixture.name,
        partial_latency=first_partial - (wall0 + onset_ms / 1000),
        final_latency=final - (wall0 + end_ms / 1000),
        streamed=" ".join(e.transcript for _, e in turns if e.end_of_turn),
        one_shot=" ".join(w.text for w in recogniser.transcribe(_audio(fixture.pcm))),
        reference=fixture.reference,
        decodes=stats.decodes,
        longest_decode=stats.longest_decode,
        cpu_share=((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / (wall1 - wall0),
    )


def report(runs: Sequence[Run], load_seconds: float) -> None:
    head = (f"{'fixture':10} {'partial s':>9} {'final s':>8} {'WER str':>8} {'WER 1shot':>9} "
            f"{'decodes':>7} {'max dec s':>9} {'CPU share':>9}")
    print(head)
    print("-" * len(head))
    for r in runs:
        print(f"{r.name:10} {r.partial_latency:9.2f} {r.final_latency:8.2f} "
              f"{word_error_rate([r.reference], [r.streamed]):8.3f} "
              f"{word_error_rate([r.reference], [r.one_shot]):9.3f} {r.decodes:7d} "
              f"{r.longest_decode:9.2f} {r.cpu_share:9.2f}")
    refs = [r.reference for r in runs]
    streamed = word_error_rate(refs, [r.streamed for r in runs])
    one_shot = word_error_rate(refs, [r.one_shot for r in runs])
    print("-" * len(head))
    print(f"{'all':10} {max(r.partial_latency for r in runs):9.2f} "
          f"{max(r.final_latency for r in runs):8.2f} {streamed:8.3f} {one_shot:9.3f} "
          f"{sum(r.decodes for r in runs):7d} {max(r.longest_decode for r in runs):9.2f} "
          f"{sum(r.cpu_share for r in runs) / len(runs):9.2f}")
    print("\nlatencies in the 'all' row are the worst; CPU share is the mean over runs.")
    print(f"WER difference streaming - one-shot: {streamed - one_shot:+.3f} (target <= +0.03)")
    print(f"model verify + load: {load_seconds:.2f} s; peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"load average at the end: {os.getloadavg()[0]:.2f}")
    for r in runs:
        print(f"  {r.name}: streamed '{r.streamed}'\n  {'':{len(r.name)}}  one-shot '{r.one_shot}'")


async def main(names: Sequence[str]) -> None:
    started = time.perf_counter()
    recogniser = await WhisperModelLoader().load()
    load_seconds = time.perf_counter() - started
    runs = [await stream_live(recogniser, load_fixture(name)) for name in names]
    report(runs, load_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", nargs="+", default=list(OFFLINE_FIXTURES))
    asyncio.run(main(parser.parse_args().fixtures))
