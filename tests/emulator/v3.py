"""The v3 Universal Streaming session on `/v3/ws` (PROTOCOL.md §2.2, §3.2, §4.1, §5.1, §6, §9).

Sequence: authenticate (failure → Error frame + close 1008), parse the query (failure → 3006,
or 3005 in legacy mode), send `Begin` (`id` uuid4, integer `expires_at`), then for every binary
frame check its duration (50–1000 ms, else 3007) and the rate rule, and feed it to the
recogniser; Turns go out in order after `Begin`.  `Terminate` → final Turn(s) → `Termination`
(integer durations) → close 1000.  Audio that arrives before `Begin` is accepted (§10).

UNCERTAIN behaviours, chosen here: the inactivity close (3005 "Session Cancelled: Inactivity
timeout"; the service's code is undocumented, §6); query validation happening before `Begin`;
anything received after `Terminate` being ignored; odd byte counts being accepted.  A failing
recogniser closes the session with the catch-all 3005 "Session Cancelled: An error occurred".
On an error close, Turns not yet sent are dropped: the error is detected on receipt, ahead of
recognition, as at a real ingress (UNCERTAIN).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection

from .auth import authenticate
from .config import (
    CLOSE_AUDIO_DURATION,
    CLOSE_INVALID_INPUT,
    CLOSE_SERVER_ERROR,
    CLOSE_SESSION_EXPIRED,
    CLOSE_UNAUTHORIZED,
    SessionParams,
)
from .faults import FaultTimers, with_lone_surrogate
from .params import ParamError, apply_update, parse_v3_params
from .recognizers import Recognizer, ScriptedRecognizer, TurnUpdate
from .recording import RecordedSession
from .session import CloseRequest, DropRequest, SessionBase
from .state import ServerState
from .turns import TurnBuilder

MIN_FRAME_MS = 50.0
MAX_FRAME_MS = 1000.0

_FORCE = "force"
_FINISH = "finish"


def _ms_text(ms: float) -> str:
    return str(int(ms)) if ms == int(ms) else f"{ms:.2f}".rstrip("0")


class V3Session(SessionBase):
    def __init__(self, ws: ServerConnection, record: RecordedSession, state: ServerState) -> None:
        super().__init__(ws, record, state.config, state.recorder)
        self._state = state
        self._params = SessionParams()
        self._recognizer: Recognizer | None = None
        self._builder = TurnBuilder(state.config.formatted_two_messages)
        self._events: asyncio.Queue[tuple[bytes, int] | str] = asyncio.Queue()
        self._audio_bytes = 0
        self._buffered_s = 0.0
        self._last_audio_at = self.started_at
        self._last_activity = self.started_at
        self._session_cap = float(state.config.session_max_seconds)
        self._terminating = False
        self._faulted = False  # set once the session is accepted (EmulatorConfig.fault_sessions)
        self.credential = ""  # what authenticated it (for the key-echo fault)
        self.surrogate_pending = False  # the next Turn carries a lone surrogate

    # -- setup ---------------------------------------------------------------------------

    async def start(self) -> None:
        request = self.record.request
        auth = authenticate(
            request.headers, request.query, self.config.api_keys, self._state.tokens
        )
        if auth.method is None:
            reason = f"Unauthorized Connection: {auth.failure}"
            self.fail(CLOSE_UNAUTHORIZED, reason, self._error_frame(CLOSE_UNAUTHORIZED, reason))
            return
        self.record.auth_method = auth.method
        self.credential = (
            (request.query.get("token") or [""])[-1]
            if auth.method == "query-token"
            else request.headers.get("authorization", "").strip()
        )
        if auth.max_session_seconds is not None:
            self._session_cap = min(self._session_cap, auth.max_session_seconds)
        try:
            self._params = parse_v3_params(
                request.query, require_speech_model=self.config.require_speech_model
            )
        except ParamError as exc:
            self._error(exc.code, exc.reason)
            return
        self.record.params = self.record.current_params = self._params
        self._faulted = self.config.faults_apply(self._recorder.accept(self.record))
        self.record.faulted = self._faulted
        if self._faulted and self.config.expire_after is not None:
            self._session_cap = min(self._session_cap, self.config.expire_after)
        factory = self.config.recognizer_factory
        self._recognizer = factory(self._params) if factory else ScriptedRecognizer()
        self.spawn(self._process())
        self.spawn(self._expire())
        if self._params.inactivity_timeout is not None:
            self.spawn(self._inactivity(self._params.inactivity_timeout))
        self.spawn(self._begin_then_write())

    async def _begin_then_write(self) -> None:
        if self._faulted and self.config.withhold_begin:
            self._start_fault_timers()
            return  # a stuck server: nothing queued is ever sent
        if self._faulted and self.config.begin_delay > 0:
            await asyncio.sleep(self.config.begin_delay)  # the service's real-time behaviour
        if self.closing:
            return
        session_id = str(uuid.uuid4())
        self.record.session_id = session_id
        expires_at = int(time.time() + self._session_cap)
        await self.send_json({"type": "Begin", "id": session_id, "expires_at": expires_at})
        self.record.began = True
        self._recorder.changed()
        self._start_fault_timers()
        await self.drain_outbox()

    def _start_fault_timers(self) -> None:
        if self._faulted:
            FaultTimers(self).start()

    @property
    def session_cap(self) -> float:
        return self._session_cap

    async def send_json(self, message: dict[str, Any]) -> None:
        if self.surrogate_pending and message.get("type") == "Turn" and message["words"]:
            self.surrogate_pending = False
            message = with_lone_surrogate(message)
        await super().send_json(message)

    # -- incoming ------------------------------------------------------------------------

    def on_binary(self, data: bytes) -> None:
        if self._recognizer is None or self._terminating:
            return
        params = self._params
        bytes_per_second = params.sample_rate * params.bytes_per_sample
        duration_ms = len(data) * 1000.0 / bytes_per_second
        if not MIN_FRAME_MS <= duration_ms <= MAX_FRAME_MS:
            self._error(
                CLOSE_AUDIO_DURATION,
                f"Input duration violation: {_ms_text(duration_ms)} ms. "
                f"Expected between {int(MIN_FRAME_MS)} and {int(MAX_FRAME_MS)} ms",
            )
            return
        now = self.loop.time()
        self._last_activity = now
        # Leaky bucket: the service processes at throughput_factor × real time (§6).
        drained = (now - self._last_audio_at) * self.config.throughput_factor
        self._buffered_s = max(0.0, self._buffered_s - drained) + duration_ms / 1000.0
        self._last_audio_at = now
        self._audio_bytes += len(data)
        if self._buffered_s > self.config.max_ahead_seconds:
            message = (
                f"Audio Transmission Rate Exceeded: Received {self._audio_seconds():.1f} sec. "
                f"audio in {self.elapsed():.6f} sec"
            )
            self._error(CLOSE_AUDIO_DURATION, message, f"Input Duration Error: {message}")
            return
        total_ms = self._audio_bytes * 1000 // bytes_per_second
        self._events.put_nowait((data, total_ms))

    def on_text(self, text: str) -> None:
        if self._recognizer is None or self._terminating:
            return
        try:
            message: Any = json.loads(text)
        except ValueError:
            self._error(CLOSE_INVALID_INPUT, f"Invalid JSON: {text}")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self._error(CLOSE_INVALID_INPUT, f"Invalid Message: {text}")
            return
        kind = message["type"]
        if kind == "Terminate":
            if not self._terminating:
                self._terminating = True
                self._events.put_nowait(_FINISH)
        elif kind == "ForceEndpoint":
            self._events.put_nowait(_FORCE)
        elif kind == "KeepAlive":
            self._last_activity = self.loop.time()
        elif kind == "UpdateConfiguration":
            # No reply is documented (PROTOCOL.md §3.2, UNCERTAIN).
            self._params = apply_update(self._params, message)
            self.record.current_params = self._params
        else:
            self._error(CLOSE_INVALID_INPUT, f"Invalid Message Type: {kind}")

    # -- recognition ---------------------------------------------------------------------

    async def _process(self) -> None:
        recognizer = self._recognizer
        assert recognizer is not None
        while not self.closing:
            event = await self._events.get()
            updates: list[TurnUpdate]
            # Off the loop thread, so that a slow (offline) recogniser never stalls reading.
            if isinstance(event, tuple):
                updates = await asyncio.to_thread(recognizer.feed, *event)
            elif event == _FORCE:
                updates = await asyncio.to_thread(recognizer.force_endpoint)
            else:
                if self._faulted and self.config.drop_on_terminate == "before-finals":
                    self.abort()
                    return
                if self.config.terminate_flush_delay > 0:
                    await asyncio.sleep(self.config.terminate_flush_delay)  # real-time "thinking"
                updates = await asyncio.to_thread(recognizer.finish)
            for update in updates:
                for turn in self._builder.build(update, self._params.format_turns):
                    self.enqueue(turn)
            if event == _FINISH:
                if self._faulted and self.config.drop_on_terminate == "after-finals":
                    self.enqueue(DropRequest())  # after the final Turns, before Termination
                    return
                self.enqueue(self.termination_message())
                self.enqueue(CloseRequest(1000, ""))
                return

    def termination_message(self) -> dict[str, Any]:
        return {
            "type": "Termination",
            "audio_duration_seconds": round(self._audio_seconds()),
            "session_duration_seconds": round(self.elapsed()),
        }

    def stop_accepting_audio(self) -> None:
        """After a Termination the service reads nothing more (as after `Terminate`)."""
        self._terminating = True

    def _audio_seconds(self) -> float:
        params = self._params
        return self._audio_bytes / (params.sample_rate * params.bytes_per_sample)

    # -- timers --------------------------------------------------------------------------

    async def _expire(self) -> None:
        await asyncio.sleep(self._session_cap)  # the service's real-time behaviour
        self._error(CLOSE_SESSION_EXPIRED, "Session Expired: Maximum session duration exceeded")

    async def _inactivity(self, idle_seconds: float) -> None:
        while not self.closing:
            remaining = self._last_activity + idle_seconds - self.loop.time()
            if remaining <= 0:
                self._error(CLOSE_SERVER_ERROR, "Session Cancelled: Inactivity timeout")
                return
            await asyncio.sleep(remaining)  # the service's real-time behaviour

    # -- errors --------------------------------------------------------------------------

    def on_internal_error(self) -> None:
        # The service's catch-all (PROTOCOL.md §5.1); legacy mode uses the same code.
        self._error(CLOSE_SERVER_ERROR, "Session Cancelled: An error occurred")

    def _error_frame(self, code: int, text: str) -> dict[str, Any] | None:
        if not self.config.send_error_frame:
            return None
        return {"type": "Error", "error_code": code, "error": text}

    def _error(self, code: int, reason: str, frame_text: str | None = None) -> None:
        code = self.config.error_code(code)
        self.fail(code, reason, self._error_frame(code, frame_text or reason))
