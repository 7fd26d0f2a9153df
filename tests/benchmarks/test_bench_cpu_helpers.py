"""The arithmetic of bench_cpu and bench_audio_latency, on made-up clocks (no processes)."""

from __future__ import annotations

import pytest

from benchmarks.bench_audio_latency import frame_latencies
from benchmarks.bench_cpu import rows_of
from benchmarks.subjects import Measurement


def test_each_sent_frame_is_timed_from_the_callback_that_brought_its_last_byte() -> None:
    ms = 1_000_000
    # Two 100 ms callbacks (3200 bytes each) at t=100 and 200 ms; four 50 ms frames sent.
    callbacks = [(100 * ms, 3200), (200 * ms, 3200)]
    sends = [(101 * ms, 1600), (102 * ms, 1600), (205 * ms, 1600), (206 * ms, 1600),
             (300 * ms, 1600)]  # the padded tail at stop: no callback brought it
    assert frame_latencies(callbacks, sends, after_ns=0) == [1.0, 2.0, 5.0, 6.0]
    assert frame_latencies(callbacks, sends, after_ns=150 * ms) == [5.0, 6.0]


def test_rows_give_the_mean_the_range_and_the_ratio_to_the_sdk_on_the_same_source() -> None:
    def m(name: str, cpu_s: float) -> Measurement:
        return Measurement(name, 10.0, cpu_s * 0.75, cpu_s * 0.25, 50, 80.0, 1.0)

    rows = {r["subject"]: r for r in rows_of(
        [m("app file", 0.05), m("SDK file", 0.1), m("app file", 0.07), m("SDK file", 0.1),
         m("app mic", 0.1)])}
    app = rows["app file"]
    assert app["CPU % of a core"] == pytest.approx(0.6)
    assert (app["min %"], app["max %"]) == (pytest.approx(0.5), pytest.approx(0.7))
    assert app["x SDK (same source)"] == pytest.approx(0.6)
    assert app["CPU s per streamed min"] == pytest.approx(0.36)
    assert app["user share %"] == pytest.approx(75.0)
    assert rows["app mic"]["x SDK (same source)"] is None  # no SDK mic run to compare with
