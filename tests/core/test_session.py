"""The session state machine's table: every legal transition, every illegal one raises."""

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


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, E)))
def test_table_is_total_legal_moves_apply_others_raise(
    state: SessionState, event: SessionEvent
) -> None:
    machine = machine_in(state)
    if (state, event) in TRANSITIONS:
        assert machine.can(event)
        assert machine.handle(event) is TRANSITIONS[(state, event)]
    else:
        assert not machine.can(event)
        with pytest.raises(IllegalTransitionError, match=event.value):
            machine.handle(event)
        assert machine.state is state  # a refused event changes nothing


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
    for state in (S.CLOSED, S.FAILED):
        assert state.is_final
        assert not any((state, event) in TRANSITIONS for event in E)


def test_active_states() -> None:
    assert {s for s in S if s.is_active} == {S.CONNECTING, S.STREAMING}
