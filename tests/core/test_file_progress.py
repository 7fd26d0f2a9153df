"""FileProgress: one line per 10 % passed, a time-left estimate from the pace so far, and a
final 100 % only once the file has ended."""

from __future__ import annotations

import pytest

from app.core.sources import FileProgress, format_clock


@pytest.mark.parametrize(("ms", "text"), [(0, "0:00"), (59_999, "0:59"), (75_000, "1:15"),
                                          (3_723_000, "1:02:03"), (-5, "0:00")])
def test_format_clock(ms: int, text: str) -> None:
    assert format_clock(ms) == text


def test_one_line_per_step_with_the_time_left() -> None:
    progress = FileProgress()
    lines = [progress.update(pos, 60_000, elapsed_s=pos / 4000)
             for pos in range(0, 60_001, 1_000)]
    said = [line for line in lines if line is not None]
    assert [line.split(" %")[0] for line in said] == [f"progress: {p}" for p in range(10, 100, 10)]
    # Four times faster than real time: at 40 % (0:24) 36 s remain, about 9 s of work.
    assert said[3] == "progress: 40 % (0:24 of 1:00, about 0:09 left)"
    assert progress.update(60_000, 60_000, 15.0, finished=True) == (
        "progress: 100 % (1:00 of 1:00, done)")
    assert progress.update(60_000, 60_000, 15.0, finished=True) is None


def test_a_jump_says_only_where_it_landed() -> None:
    progress = FileProgress()
    assert progress.update(35_000, 100_000, 1.0) == (
        "progress: 35 % (0:35 of 1:40, about 0:01 left)")
    assert progress.update(39_000, 100_000, 1.1) is None
    assert progress.update(40_000, 100_000, 1.2) is not None


def test_the_header_being_short_never_shows_100_before_the_end() -> None:
    progress = FileProgress()
    line = progress.update(61_000, 60_000, 5.0)
    assert line is not None and line.startswith("progress: 99 %")
    assert progress.update(62_000, 60_000, 5.0) is None


def test_without_a_length_only_the_end_is_reported() -> None:
    progress = FileProgress()
    assert progress.update(5_000, None, 1.0) is None
    assert progress.update(9_000, None, 2.0, finished=True) == (
        "progress: 100 % (0:09 of 0:09, done)")


def test_the_step_must_be_a_percentage() -> None:
    with pytest.raises(ValueError):
        FileProgress(0)


def test_the_pace_estimate_forgets_the_first_burst() -> None:
    from app.core.sources import PaceEstimate

    pace = PaceEstimate(window_s=10.0, min_span_s=2.0)
    pace.add(0.0, 0)
    pace.add(0.5, 7_000)  # buffers filled at once
    assert pace.left_ms(60_000) is None  # nothing measured over 2 s yet
    for second in range(1, 31):  # then half real time: 500 ms of audio per second
        pace.add(0.5 + second, 7_000 + 500 * second)
    # 38 s of audio left at 500 ms/s: 76 s (the pace since the start would say 53 s).
    assert pace.left_ms(60_000) == 76_000
    assert pace.left_ms(None) is None
