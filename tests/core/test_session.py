"""The session state machine against a hand-written expectation: every legal transition, every
illegal one raises."""

from __future__ import annotations

import itertools

import pytest

from app.core.errors import IllegalTransitionError
from app.core.session import (
    TRANSITIONS,
    SessionEvent,
    SessionState,
    SessionStateMachine,
)

S, E = SessionState, SessionEvent


def machine_in(state: SessionState) -> SessionStateMachine:
    """Drive a fresh machine to ``state`` through legal transitions only."""
    paths = {
        S.IDLE: [], S.CONNECTING: [E.CONNECT], S.STREAMING: [E.CONNECT, E.BEGIN],
        S.STOPPING: [E.CONNECT, E.BEGIN, E.STOP],
        S.CLOSED: [E.CONNECT, E.BEGIN, E.STOP, E.TERMINATED], S.FAILED: [E.FAIL],
    }
    machine = SessionStateMachine()
    for event in paths[state]:
        machine.handle(event)
    assert machine.state is state
    return machine


# The expected machine, written out by hand (not derived from TRANSITIONS): for every state,
# what each event leads to; None means the event is refused there.
EXPECTED: dict[SessionState, dict[SessionEvent, SessionState | None]] = {
    S.IDLE: {E.CONNECT: S.CONNECTING, E.BEGIN: None, E.STOP: None, E.TERMINATED: None,
             E.FAIL: S.FAILED},
    S.CONNECTING: {E.CONNECT: None, E.BEGIN: S.STREAMING, E.STOP: S.STOPPING,
                   E.TERMINATED: None, E.FAIL: S.FAILED},
    S.STREAMING: {E.CONNECT: None, E.BEGIN: None, E.STOP: S.STOPPING, E.TERMINATED: S.CLOSED,
                  E.FAIL: S.FAILED},
    S.STOPPING: {E.CONNECT: None, E.BEGIN: S.STOPPING, E.STOP: None, E.TERMINATED: S.CLOSED,
                 E.FAIL: S.FAILED},
    S.CLOSED: {E.CONNECT: None, E.BEGIN: None, E.STOP: None, E.TERMINATED: None, E.FAIL: None},
    S.FAILED: {E.CONNECT: None, E.BEGIN: None, E.STOP: None, E.TERMINATED: None, E.FAIL: None},
}


def test_the_expectation_covers_every_state_and_event() -> None:
    assert set(EXPECTED) == set(S)
    assert all(set(row) == set(E) for row in EXPECTED.values())


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, E)))
def test_each_event_in_each_state_does_what_is_expected(
    state: SessionState, event: SessionEvent
) -> None:
    machine = machine_in(state)
    expected = EXPECTED[state][event]
    if expected is not None:
        assert machine.can(event)
        assert machine.handle(event) is expected
    else:
        assert not machine.can(event)
        with pytest.raises(IllegalTransitionError, match=event.value):
            machine.handle(event)
        assert machine.state is state  # a refused event changes nothing


def test_the_published_table_is_exactly_the_expected_machine() -> None:
    # Others read TRANSITIONS (docs, the session shell): it must hold no extra or missing move.
    legal = {(state, event): target for state, row in EXPECTED.items()
             for event, target in row.items() if target is not None}
    assert TRANSITIONS == legal


def test_happy_path_reports_each_change() -> None:
    seen: list[tuple[SessionState, SessionState]] = []
    machine = SessionStateMachine(lambda old, new: seen.append((old, new)))
    for event in (E.CONNECT, E.BEGIN, E.STOP, E.TERMINATED):
        machine.handle(event)
    assert seen == [(S.IDLE, S.CONNECTING), (S.CONNECTING, S.STREAMING),
                    (S.STREAMING, S.STOPPING), (S.STOPPING, S.CLOSED)]


def test_begin_while_stopping_is_a_no_op_without_a_change_report() -> None:
    seen: list[tuple[SessionState, SessionState]] = []
    machine = SessionStateMachine(lambda old, new: seen.append((old, new)))
    machine.handle(E.CONNECT)
    machine.handle(E.STOP)
    seen.clear()
    assert machine.handle(E.BEGIN) is S.STOPPING
    assert seen == []


def test_final_states_accept_nothing() -> None:
    assert {s for s in S if s.is_final} == {S.CLOSED, S.FAILED}
    for state in (S.CLOSED, S.FAILED):
        machine = machine_in(state)
        assert not any(machine.can(event) for event in E)


def test_active_states() -> None:
    assert {s for s in S if s.is_active} == {S.CONNECTING, S.STREAMING}
