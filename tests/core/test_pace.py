"""The offline engine's pace: slow down at once when behind, speed up only when calm."""

from __future__ import annotations

import pytest

from app.core.pace import PACES, PaceChange, PaceGovernor


def test_full_pace_gives_up_nothing_and_the_last_pace_gives_up_partials() -> None:
    assert PaceGovernor().pace == PACES[0]
    assert PACES[0].gave_up == "" and PACES[0].partials
    assert not PACES[-1].partials and PACES[-1].gave_up.endswith("finished.")
    assert all(p.gave_up for p in PACES[1:])


def test_each_step_behind_slows_down_one_level_down_to_finals_only() -> None:
    governor = PaceGovernor(slow_down_ms=2000)
    assert governor.observe(2000) is None  # on the bar: not behind yet
    assert governor.observe(2500) == PaceChange(PACES[1], 2500)
    assert governor.observe(3000) == PaceChange(PACES[2], 3000)
    assert governor.observe(3000) == PaceChange(PACES[3], 3000)
    assert governor.observe(9000) is None  # nothing left to give up
    assert governor.pace == PACES[3]


def test_speeding_up_needs_several_calm_steps_in_a_row() -> None:
    governor = PaceGovernor(slow_down_ms=2000, catch_up_ms=800, calm_steps=3)
    governor.observe(2500)
    governor.observe(2500)
    assert governor.pace == PACES[2]
    assert [governor.observe(100), governor.observe(100)] == [None, None]
    assert governor.observe(1000) is None  # neither behind nor calm: the count starts again
    assert [governor.observe(100), governor.observe(100)] == [None, None]
    assert governor.observe(100) == PaceChange(PACES[1], 100)
    for _ in range(2):
        assert governor.observe(0) is None
    assert governor.observe(0) == PaceChange(PACES[0], 0)
    assert governor.observe(0) is None  # already at full pace


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError):
        PaceGovernor(slow_down_ms=500, catch_up_ms=800)
    with pytest.raises(ValueError):
        PaceGovernor(calm_steps=0)
    with pytest.raises(ValueError):
        PaceGovernor(paces=())
