"""How much live decoding the machine can afford: the offline engine's pace, and what it gave up.

Pure. The offline engine measures its lag after every decoder step — the audio handed in that
the recogniser has not looked at yet — and :class:`PaceGovernor` turns the lag into a pace:
partial decodes at the normal step, at longer steps, or none at all (finals only). Audio is
never dropped for it: a final decode per turn is far less work than real time, so finals
always come, only the grey partial words are given up. Slowing down happens as soon as the
lag passes ``slow_down_ms``; speeding up only after a calm stretch of audio, longer each time
the machine relapsed, so the pace does not flap (the person is told of every change).
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
    """The lag after each decoder step in, a pace out; times on the stream's audio clock (ms
    of audio handed in), so the same lags give the same paces however fast the machine is.

    * Slowing down: as soon as the lag passes ``slow_down_ms``, one level, then at most one
      level per ``slow_dwell_ms`` (a slower pace needs a few steps to show its effect; without
      the dwell a single long decode would step through every level at once).
    * Speeding up: one level, once the lag stayed under ``catch_up_ms`` at every step for
      ``calm_ms`` and no change came in that time either.
    * Relapse: slowing down again within ``relapse_ms`` of speeding up doubles the calm time
      needed (up to ``max_calm_ms``): a machine that is busy on and off gets a steady slower
      pace rather than a pace that flaps (each change is a sentence the person reads).
    """

    def __init__(self, paces: Sequence[Pace] = PACES, *, slow_down_ms: int = 2000,
                 catch_up_ms: int = 800, slow_dwell_ms: int = 5_000, calm_ms: int = 20_000,
                 relapse_ms: int = 60_000, max_calm_ms: int = 160_000) -> None:
        if (not paces or not 0 <= catch_up_ms < slow_down_ms or slow_dwell_ms < 0
                or not 0 < calm_ms <= max_calm_ms or relapse_ms < 0):
            raise ValueError("paces, 0 <= catch_up_ms < slow_down_ms, slow_dwell_ms >= 0, "
                             "0 < calm_ms <= max_calm_ms and relapse_ms >= 0")
        self._paces = tuple(paces)
        self._slow_down_ms = slow_down_ms
        self._catch_up_ms = catch_up_ms
        self._slow_dwell_ms = slow_dwell_ms
        self._relapse_ms = relapse_ms
        self._max_calm_ms = max_calm_ms
        self.calm_ms = calm_ms  # the calm needed now (grows with each relapse)
        self._level = 0
        self._changed_at: int | None = None  # when the pace last changed
        self._sped_up_at: int | None = None  # when it last sped up
        self._calm_since: int | None = None  # since when every lag was under catch_up_ms

    @property
    def pace(self) -> Pace:
        return self._paces[self._level]

    def observe(self, behind_ms: int, at_ms: int) -> PaceChange | None:
        """The lag after a decoder step, measured ``at_ms`` into the stream; returns the new
        pace when it changed."""
        since_change = None if self._changed_at is None else at_ms - self._changed_at
        if behind_ms > self._slow_down_ms:
            self._calm_since = None
            if self._level == len(self._paces) - 1 or (
                    since_change is not None and self._level > 0
                    and since_change < self._slow_dwell_ms):
                return None
            if self._sped_up_at is not None and at_ms - self._sped_up_at < self._relapse_ms:
                self.calm_ms = min(self._max_calm_ms, 2 * self.calm_ms)
            return self._change(self._level + 1, behind_ms, at_ms)
        if behind_ms >= self._catch_up_ms:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = at_ms
        if (self._level == 0 or at_ms - self._calm_since < self.calm_ms
                or (since_change is not None and since_change < self.calm_ms)):
            return None
        self._sped_up_at = at_ms
        self._calm_since = at_ms
        return self._change(self._level - 1, behind_ms, at_ms)

    def _change(self, level: int, behind_ms: int, at_ms: int) -> PaceChange:
        self._level = level
        self._changed_at = at_ms
        return PaceChange(self.pace, behind_ms)
