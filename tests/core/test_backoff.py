from __future__ import annotations

import itertools

import pytest

from app.core.backoff import backoff


def test_without_jitter_doubles_up_to_the_cap() -> None:
    delays = list(itertools.islice(backoff(base=0.5, cap=5, jitter=False), 7))
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_full_jitter_scales_the_ceiling_by_the_injected_randomness() -> None:
    draws = iter([0.0, 0.5, 0.999, 0.25])
    delays = list(backoff(base=1, factor=3, cap=20, max_attempts=4, rand=lambda: next(draws)))
    assert delays == pytest.approx([0.0, 1.5, 8.991, 5.0])


def test_max_attempts_ends_the_generator() -> None:
    assert len(list(backoff(max_attempts=3, jitter=False))) == 3
    assert list(backoff(max_attempts=0)) == []


def test_default_randomness_stays_within_bounds() -> None:
    for delay, ceiling in zip(backoff(base=0.1, cap=1.0, max_attempts=50),
                              [0.1, 0.2, 0.4, 0.8] + [1.0] * 46, strict=True):
        assert 0 <= delay <= ceiling


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"factor": 0.5}, {"base": 2, "cap": 1},
                                    {"max_attempts": -1}])
def test_invalid_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        next(backoff(**kwargs))  # type: ignore[arg-type]
