"""How much live decoding the machine can afford: the offline engine's pace, and what it gave up.

Pure. The offline engine measures its lag after every decoder step — the audio handed in that
the recogniser has not looked at yet — and :class:`PaceGovernor` turns the lag into a pace:
partial decodes at the normal step, at longer steps, or none at all (finals only). Audio is
never dropped for it: a final decode per turn is far less work than real time, so finals
always come, only the grey partial words are given up. Slowing down happens as soon as the
lag passes ``slow_down_ms``, one level per step; speeding up again only after ``calm_steps``
steps in a row under ``catch_up_ms``, so the pace does not flap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    step_factor: int  # partial decodes every step_factor x the rules' step
    partials: bool  # False: no partial decodes at all, finals only
    gave_up: str  # what the person misses at this pace, one sentence ("" at full pace)


PACES: tuple[Pace, ...] = (
    Pace(1, True, ""),
    Pace(2, True, "This computer is busy: the words in progress update half as often."),
    Pace(4, True, "This computer is busy: the words in progress update a quarter as often."),
    Pace(4, False, "This computer is busy: words appear only when each sentence is finished."),
)


@dataclass(frozen=True)
class PaceChange:
    """The pace changed: ``behind_ms`` is the lag that made it change."""

    pace: Pace
    behind_ms: int


class PaceGovernor:
    def __init__(self, paces: Sequence[Pace] = PACES, *, slow_down_ms: int = 2000,
                 catch_up_ms: int = 800, calm_steps: int = 8) -> None:
        if not paces or not 0 <= catch_up_ms < slow_down_ms or calm_steps < 1:
            raise ValueError("paces, 0 <= catch_up_ms < slow_down_ms and calm_steps >= 1")
        self._paces = tuple(paces)
        self._slow_down_ms = slow_down_ms
        self._catch_up_ms = catch_up_ms
        self._calm_steps = calm_steps
        self._level = 0
        self._calm = 0

    @property
    def pace(self) -> Pace:
        return self._paces[self._level]

    def observe(self, behind_ms: int) -> PaceChange | None:
        """The lag after a decoder step; returns the new pace when it changed."""
        level = self._level
        if behind_ms > self._slow_down_ms:
            self._calm = 0
            level = min(level + 1, len(self._paces) - 1)
        elif behind_ms < self._catch_up_ms:
            self._calm += 1
            if self._calm >= self._calm_steps and level > 0:
                self._calm = 0
                level -= 1
        else:
            self._calm = 0
        if level == self._level:
            return None
        self._level = level
        return PaceChange(self.pace, behind_ms)
