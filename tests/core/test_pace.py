"""The offline engine's pace: slow down at once when behind, speed up only after a calm
stretch of audio, and ever more reluctantly when the machine keeps relapsing (no flapping)."""

from __future__ import annotations

import pytest

from app.core.pace import PACES, PaceChange, PaceGovernor


def levels(governor: PaceGovernor, steps: list[tuple[int, int]]) -> list[int]:
    """The pace level after each (at_ms, behind_ms) step."""
    out = []
    for at_ms, behind_ms in steps:
        governor.observe(behind_ms, at_ms)
        out.append(PACES.index(governor.pace))
    return out


def test_full_pace_gives_up_nothing_and_the_last_pace_gives_up_partials() -> None:
    assert PaceGovernor().pace == PACES[0]
    assert PACES[0].gave_up == "" and PACES[0].partials
    assert not PACES[-1].partials and PACES[-1].gave_up.endswith("finished.")
    assert all(p.gave_up for p in PACES[1:])


def test_slowing_down_is_at_once_then_one_level_per_dwell_down_to_finals_only() -> None:
    governor = PaceGovernor(slow_down_ms=2000, slow_dwell_ms=5000)
    assert governor.observe(2000, 1000) is None  # on the bar: not behind yet
    assert governor.observe(2500, 2000) == PaceChange(PACES[1], 2500)
    assert governor.observe(3000, 3000) is None  # the slower pace has had no time to work
    assert governor.observe(3000, 6999) is None
    assert governor.observe(3000, 7000) == PaceChange(PACES[2], 3000)
    assert governor.observe(3000, 12_000) == PaceChange(PACES[3], 3000)
    assert governor.observe(9000, 30_000) is None  # nothing left to give up
    assert governor.pace == PACES[3]


@pytest.mark.parametrize(("steps", "expected"), [
    # Calm for 20 s of audio (counted from the first calm step): one level faster.
    ([(0, 2500), (1000, 100), (10_000, 100), (20_999, 100), (21_000, 100), (60_000, 100)],
     [1, 1, 1, 1, 0, 0]),
    # A lag between the bars breaks the calm: it is counted again from the next calm step.
    ([(0, 2500), (15_000, 100), (16_000, 1000), (17_000, 100), (36_999, 100), (37_000, 100)],
     [1, 1, 1, 1, 1, 0]),
    # Calm must also be 20 s after the change itself (calm before it does not count).
    ([(0, 100), (10_000, 100), (12_000, 2500), (13_000, 100), (31_999, 100), (33_000, 100)],
     [0, 0, 1, 1, 1, 0]),
])
def test_speeding_up_needs_a_calm_stretch_of_audio(steps: list[tuple[int, int]],
                                                   expected: list[int]) -> None:
    governor = PaceGovernor(slow_down_ms=2000, catch_up_ms=800, calm_ms=20_000)
    assert levels(governor, steps) == expected


def test_a_machine_busy_on_and_off_settles_on_a_slower_pace_instead_of_flapping() -> None:
    """A busy core: every turn's final decode leaves the lag at 2.5 s for a step, every 12 s
    of audio, and the steps between are calm. The old rule (8 calm steps) changed the pace
    twice per turn."""
    governor = PaceGovernor(slow_down_ms=2000, catch_up_ms=800, calm_ms=20_000,
                            relapse_ms=60_000, max_calm_ms=160_000)
    changes = 0
    for at_ms in range(0, 600_000, 1000):  # 10 minutes, a step per second
        behind = 2500 if at_ms % 12_000 == 0 else 50
        changes += governor.observe(behind, at_ms) is not None
    # Slower at three spikes (each one dwell apart), then never calm for long enough again.
    assert changes == 3
    assert governor.pace == PACES[-1]


def test_relapses_double_the_calm_needed_up_to_a_cap() -> None:
    governor = PaceGovernor(slow_down_ms=2000, catch_up_ms=800, calm_ms=10_000,
                            relapse_ms=60_000, max_calm_ms=40_000)
    at = 0
    needed = []
    for _ in range(4):
        assert governor.observe(2500, at) is not None  # behind: slower
        at += 1000
        start = at
        while governor.observe(100, at) is None:  # calm until it speeds up again
            at += 1000
        needed.append(at - start)
        at += 1000
    assert needed == [10_000, 20_000, 40_000, 40_000]
    # A slow-down long after the last speed-up is no relapse: the calm needed stays.
    governor.observe(2500, at + 120_000)
    assert governor.calm_ms == 40_000


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError):
        PaceGovernor(slow_down_ms=500, catch_up_ms=800)
    with pytest.raises(ValueError):
        PaceGovernor(calm_ms=0)
    with pytest.raises(ValueError):
        PaceGovernor(calm_ms=20_000, max_calm_ms=10_000)
    with pytest.raises(ValueError):
        PaceGovernor(paces=())
