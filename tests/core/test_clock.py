from __future__ import annotations

import pytest

from app.core.clock import long_clock, short_clock, split_ms


@pytest.mark.parametrize(("ms", "short", "long", "srt"), [
    (0, "00:00", "00:00:00", "00:00:00,000"),
    (-5, "00:00", "00:00:00", "00:00:00,000"),
    (61_999, "01:01", "00:01:01", "00:01:01,999"),
    (3_599_999, "59:59", "00:59:59", "00:59:59,999"),
    (3_600_000, "1:00:00", "01:00:00", "01:00:00,000"),
    (36_061_005, "10:01:01", "10:01:01", "10:01:01,005"),
])
def test_clocks(ms: int, short: str, long: str, srt: str) -> None:
    assert short_clock(ms) == short
    assert long_clock(ms) == long
    assert long_clock(ms, ",") == srt
    assert long_clock(ms, ".") == srt.replace(",", ".")


def test_split_adds_back_up() -> None:
    hours, minutes, seconds, millis = split_ms(98_765_432)
    assert ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis == 98_765_432
