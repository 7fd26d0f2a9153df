"""The reconnect planner's decisions, as a table: pure, the clock passed in."""

from __future__ import annotations

import pytest

from app.core.errors import (
    AuthError,
    ConnectionFailedError,
    LiveTranscriberError,
    SlowLinkError,
)
from app.core.reconnect import Decision, ReconnectPlanner, ReconnectSettings

SETTINGS = ReconnectSettings(give_up_after_s=120.0, fall_back_after_s=10.0, base_delay_s=0.5,
                             max_delay_s=10.0)
DROP = ConnectionFailedError("The connection to AssemblyAI closed.")
SLOW = SlowLinkError("The connection to AssemblyAI is too slow to keep up.")
REJECTED = AuthError("AssemblyAI rejected the API key.")


@pytest.mark.parametrize(("error", "can_fall_back", "outage_s", "decision"), [
    (DROP, False, 0.0, Decision.RETRY),
    (DROP, True, 0.0, Decision.RETRY),  # a blip: the cloud again first
    (DROP, True, 10.0, Decision.FALL_BACK),
    (DROP, False, 10.0, Decision.RETRY),  # Cloud mode keeps trying...
    (DROP, False, 120.0, Decision.GIVE_UP),  # ...until the give-up time
    (SLOW, True, 0.0, Decision.FALL_BACK),  # waiting does not make a slow link fast
    (SLOW, False, 0.0, Decision.RETRY),
    (REJECTED, True, 0.0, Decision.GIVE_UP),  # the same key fails the same way
])
def test_what_follows_a_session_that_ended(error: LiveTranscriberError, can_fall_back: bool,
                                           outage_s: float, decision: Decision) -> None:
    planner = ReconnectPlanner(SETTINGS, can_fall_back=can_fall_back, rand=lambda: 1.0)
    planner.begin(100.0)
    plan = planner.next(error, 100.0 + outage_s)
    assert plan.decision is decision
    if decision is Decision.RETRY:
        limit = SETTINGS.fall_back_after_s if can_fall_back else SETTINGS.give_up_after_s
        assert 0.0 < plan.delay_s <= limit - outage_s


def test_a_retry_never_sleeps_past_the_moment_the_outage_is_decided() -> None:
    planner = ReconnectPlanner(SETTINGS, can_fall_back=True, rand=lambda: 1.0)
    planner.begin(0.0)
    delays = [planner.next(DROP, t).delay_s for t in (0.0, 2.0, 9.5)]
    assert delays[-1] == pytest.approx(0.5)  # 10 s - 9.5 s, not the backoff's next step
    assert planner.next(DROP, 10.0).decision is Decision.FALL_BACK
