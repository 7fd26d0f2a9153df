"""What a recording does when its engine session ends before the person pressed Stop.

:func:`retryable` says whether a fresh session can help (a network drop, a service restart,
an expired session) or not (a rejected key, no credit, audio the service refuses: trying
again would fail the same way). :class:`ReconnectPlanner` turns the outage so far into one
decision — try again after a delay, switch to the offline engine (Automatic mode), or give
up — with the core backoff spacing the attempts. Pure: the caller passes the clock's reading.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.core.backoff import backoff
from app.core.errors import (
    AccountError,
    AudioRejectedError,
    AuthError,
    ClientMessageError,
    LiveTranscriberError,
    SessionLostError,
    SlowLinkError,
)


class Decision(enum.Enum):
    RETRY = "retry"
    FALL_BACK = "fall-back"  # continue this recording with the offline engine
    GIVE_UP = "give-up"


@dataclass(frozen=True)
class ReconnectPlan:
    decision: Decision
    delay_s: float = 0.0


@dataclass(frozen=True)
class ReconnectSettings:
    give_up_after_s: float = 120.0  # a setting: how long a forced-cloud recording keeps trying
    fall_back_after_s: float = 10.0  # Automatic: how long before the offline engine takes over
    base_delay_s: float = 0.5
    max_delay_s: float = 10.0


def unexpected_end() -> SessionLostError:
    """The error for a session the service ended cleanly while the person was recording
    (close 1000 or an unrequested ``Termination``, as at session expiry)."""
    return SessionLostError("AssemblyAI ended the session although the recording was running.",
                            remedy="Start again if it does not reconnect by itself.")


_NEVER = (AuthError, AccountError, AudioRejectedError, ClientMessageError)


def retryable(error: LiveTranscriberError) -> bool:
    """A new session may succeed where this one ended. Rejected credentials, an account that
    cannot stream and audio or messages the service refuses fail the same way again."""
    return not isinstance(error, _NEVER) and error.retryable


class ReconnectPlanner:
    """One outage at a time: :meth:`begin` when a session ends, :meth:`next` after each
    failed attempt, :meth:`end` once a session is streaming again."""

    def __init__(self, settings: ReconnectSettings | None = None, *, can_fall_back: bool = False,
                 rand: Callable[[], float] = random.random) -> None:
        self.settings = settings or ReconnectSettings()
        self.can_fall_back = can_fall_back
        self._rand = rand
        self._delays: Iterator[float] = iter(())
        self._since: float | None = None
        self.outages = 0

    @property
    def in_outage(self) -> bool:
        return self._since is not None

    def begin(self, now: float) -> None:
        self._since = now
        self.outages += 1
        s = self.settings
        self._delays = backoff(base=s.base_delay_s, cap=max(s.max_delay_s, s.base_delay_s),
                               rand=self._rand)

    def outage_s(self, now: float) -> float:
        return 0.0 if self._since is None else max(0.0, now - self._since)

    def next(self, error: LiveTranscriberError, now: float) -> ReconnectPlan:
        """What to do after ``error`` ended a session or an attempt to open one."""
        if self._since is None:
            self.begin(now)
        if not retryable(error):
            return ReconnectPlan(Decision.GIVE_UP)
        outage = self.outage_s(now)
        s = self.settings
        if self.can_fall_back and (outage >= s.fall_back_after_s
                                   or isinstance(error, SlowLinkError)):
            # A link too slow to keep up is not an outage that ends by waiting: a new
            # session on it would fall behind again while the offline engine keeps up.
            return ReconnectPlan(Decision.FALL_BACK)
        if outage >= s.give_up_after_s:
            return ReconnectPlan(Decision.GIVE_UP)
        delay = next(self._delays)
        limit = s.fall_back_after_s if self.can_fall_back else s.give_up_after_s
        # Never sleep past the moment the outage must be decided.
        return ReconnectPlan(Decision.RETRY, min(delay, max(0.0, limit - outage)))

    def end(self) -> None:
        self._since = None
