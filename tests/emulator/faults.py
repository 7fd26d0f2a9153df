"""Timed fault injection for one v3 session (the `EmulatorConfig` fault knobs).

Each knob reproduces a failure a real meeting can meet; `python -m tests.emulator --help`
lists them with the same words.  Timers start when `Begin` is sent (or at session start when
`Begin` is withheld) and only in sessions the knobs apply to (`EmulatorConfig.fault_sessions`).

Choices where nothing documents the real service (UNCERTAIN):

* infrastructure closes (1011, 1012, 1013) come without an `Error` frame: they are what a proxy
  or a restarting server process says, not the transcription service's own error path;
* the oversized frame is a well-formed JSON `Warning` message padded to the requested size, so
  a client that accepts big frames only logs a warning, while one with websockets' default
  1 MiB limit closes 1009;
* the lone surrogate goes into the next `Turn` (appended to its last word), so that no word of
  the recognised speech is lost or invented by the fault itself;
* key echo closes 3005 with the credential in both the `Error` frame and the close reason.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .config import CLOSE_NORMAL, CLOSE_SERVER_ERROR, INFRASTRUCTURE_CODES
from .session import CloseRequest

if TYPE_CHECKING:
    from .v3 import V3Session

# Non-JSON text: a message cut off mid-way (what a broken proxy or server bug produces).
MALFORMED_FRAME = '{"type": "Turn", "turn_order": '
LONE_SURROGATE = "\ud800"  # json.dumps writes it as the escape \ud800 (ASCII on the wire)


def oversized_frame(size: int) -> str:
    """A JSON `Warning` message of exactly `size` bytes (at least its fixed part)."""
    head, tail = '{"type": "Warning", "warning_code": 0, "warning": "', '"}'
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def with_lone_surrogate(turn: dict[str, Any]) -> dict[str, Any]:
    """`turn` with a lone surrogate appended to its last word, transcript kept consistent."""
    words = [dict(word) for word in turn["words"]]
    if not words:
        return turn
    words[-1]["text"] += LONE_SURROGATE
    transcript = " ".join(str(w["text"]) for w in words if w["word_is_final"])
    utterance = transcript if turn["end_of_turn"] else turn.get("utterance", "")
    return {**turn, "words": words, "transcript": transcript, "utterance": utterance}


class FaultTimers:
    """Starts the configured fault timers on a session."""

    def __init__(self, session: V3Session) -> None:
        self._session = session

    def start(self) -> None:
        config = self._session.config
        timers: list[tuple[float | None, Coroutine[Any, Any, None]]] = []
        if config.close_after is not None:
            code, delay, reason = config.close_after
            timers.append((delay, self._close(code, reason)))
        timers += [
            (config.malformed_after, self._send_raw(MALFORMED_FRAME)),
            (config.oversized_after, self._send_raw(oversized_frame(config.oversized_bytes))),
            (config.drop_after, self._drop()),
            (config.stall_after, self._stall()),
            (config.repeat_begin_after, self._repeat_begin()),
            (config.termination_after, self._unrequested_termination()),
            (config.key_echo_after, self._echo_key()),
            (config.surrogate_after, self._mark_surrogate()),
        ]
        for after, action in timers:
            if after is None:
                action.close()  # never awaited: not configured
            else:
                self._session.spawn(self._after(after, action))

    async def _after(self, delay: float, action: Coroutine[Any, Any, None]) -> None:
        try:
            await asyncio.sleep(delay)  # the fault's real-time schedule
        except asyncio.CancelledError:
            action.close()
            raise
        if self._session.closing or self._session.stalled:
            action.close()
            return
        await action

    async def _close(self, code: int, reason: str) -> None:
        session = self._session
        plain = code == CLOSE_NORMAL or code in INFRASTRUCTURE_CODES
        if plain or not session.config.send_error_frame:
            await session.close(code, reason)
            return
        session.fail(code, reason, {"type": "Error", "error_code": code, "error": reason})

    async def _send_raw(self, text: str) -> None:
        await self._session.send_raw(text)

    async def _drop(self) -> None:
        self._session.abort()

    async def _stall(self) -> None:
        self._session.stall()

    async def _repeat_begin(self) -> None:
        # A second Begin, as from a server that restarted the session behind a proxy.
        expires_at = int(time.time() + self._session.session_cap)
        self._session.enqueue({"type": "Begin", "id": str(uuid.uuid4()), "expires_at": expires_at})

    async def _unrequested_termination(self) -> None:
        session = self._session
        session.stop_accepting_audio()
        session.enqueue(session.termination_message())
        session.enqueue(CloseRequest(CLOSE_NORMAL, ""))

    async def _echo_key(self) -> None:
        session = self._session
        text = f"Session Cancelled: credential {session.credential} was rejected"
        session.fail(
            CLOSE_SERVER_ERROR,
            text,
            {"type": "Error", "error_code": CLOSE_SERVER_ERROR, "error": text}
            if session.config.send_error_frame
            else None,
        )

    async def _mark_surrogate(self) -> None:
        self._session.surrogate_pending = True
