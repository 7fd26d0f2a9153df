""""Microphone + system audio" as one mixed stream: the cost of summing two voices' 50 ms
frames and measuring the mix's level, pure Python (the reference in app/core/mixing.py and
app/core/signal.py) against the numpy path the app runs (app/io/audio/mixed_source.py).

Run: ``.venv/bin/python -m benchmarks.bench_mixing [--seconds 60 | --smoke]``
(``run(smoke)`` returns the figures as a result for ``make bench``)

Both paths get the same frames (random s16le, seeded) in the same run; the figure is the
time per 50 ms frame (min of 5 repeats, to keep a busy machine's noise out) and the share of
one core that a real-time call costs (time per frame / 50 ms).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from app.core import mixing
from app.core.audio import FRAME_MS
from app.core.signal import level_dbfs
from app.io.audio.level import level_of
from app.io.audio.mixed_source import mix_s16

SAMPLES_PER_FRAME = 800


def _frames(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    return [(rng.randbytes(2 * SAMPLES_PER_FRAME), rng.randbytes(2 * SAMPLES_PER_FRAME))
            for _ in range(count)]


def _pure(a: bytes, b: bytes) -> object:
    return level_dbfs(mixing.mix_s16(a, b))


def _numpy(a: bytes, b: bytes) -> object:
    return level_of(mix_s16(a, b))


def _per_frame_us(work: Callable[[bytes, bytes], object],
                  frames: list[tuple[bytes, bytes]], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for a, b in frames:
            work(a, b)
        best = min(best, time.perf_counter() - started)
    return best / len(frames) * 1e6


def run(smoke: bool = False, seconds: float | None = None, seed: int = 15) -> dict[str, object]:
    """The benchmark as a result (benchmarks/report.py); smoke: 2 s of frames."""
    seconds = seconds if seconds is not None else (2.0 if smoke else 60.0)
    frames = _frames(max(1, round(seconds * 1000 / FRAME_MS)), seed)
    pure = _per_frame_us(_pure, frames)
    fast = _per_frame_us(_numpy, frames)
    rows = [{"path": name, "us per frame": round(us, 2),
             "% of one core": round(us / (FRAME_MS * 1000) * 100, 4)}
            for name, us in (("pure Python (core reference)", pure), ("numpy (the app)", fast))]
    return {
        "name": "mixing",
        "rows": rows,
        "headline": {"numpy / pure time per frame": round(fast / pure, 4)},
        "notes": [f"{len(frames)} frames of two random 800-sample s16le parts (seed {seed}): "
                  "sum clipped to 16 bits, then RMS and peak level of the mix; min of 5 runs."],
        "plots": [{"x": "path", "y": ["us per frame"], "kind": "bar",
                   "title": "Mixing two voices: time per 50 ms frame", "ylabel": "µs"}],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--smoke", action="store_true", help="the short version (seconds)")
    args = parser.parse_args(argv)
    from benchmarks.report import print_result

    print_result(run(smoke=args.smoke, seconds=None if args.smoke else args.seconds))


if __name__ == "__main__":
    main()
