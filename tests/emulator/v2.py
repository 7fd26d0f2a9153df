"""The deprecated v2 real-time endpoint `/v2/realtime/ws`, kept to reproduce the original failure.

Required behaviour (PROTOCOL.md §1.4, §9.1, §10): the upgrade is accepted; without a valid
credential — the API key in the `Authorization` header or a temporary token in `?token=`;
`auth_key=` is not one — the server sends the text frame `{"error": "Not authorized"}` and
closes 4001 `Not authorized`.

With a valid credential a minimal v2 flow runs (PROTOCOL.md §4.2): `SessionBegins` (ISO
`expires_at` without time zone), `PartialTranscript` / `FinalTranscript` from the recogniser,
`{"terminate_session": true}` → remaining finals, `SessionInformation` (when
`enable_extra_session_information=true`), `SessionTerminated`, close 1000 (UNCERTAIN: the close
code after SessionTerminated is undocumented).  Audio comes as binary frames or as
`{"audio_data": base64}`.  Not emulated: the 100–2000 ms frame rule, the idle and rate limits.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from typing import Any

from websockets.asyncio.server import ServerConnection

from .config import SessionParams
from .params import ParamError, parse_bool
from .recognizers import Recognizer, ScriptedRecognizer, TurnUpdate
from .recording import RecordedSession
from .session import CloseRequest, SessionBase
from .state import ServerState
from .turns import format_text

NOT_AUTHORIZED = "Not authorized"


def _iso(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


class V2Session(SessionBase):
    def __init__(self, ws: ServerConnection, record: RecordedSession, state: ServerState) -> None:
        super().__init__(ws, record, state.config, state.recorder)
        self._state = state
        self._recognizer: Recognizer | None = None
        self._sample_rate = 16000
        self._audio_bytes = 0
        self._extra_info = False

    async def start(self) -> None:
        request = self.record.request
        key = request.headers.get("authorization", "").strip()
        token = (request.query.get("token") or [""])[-1]
        if key and key in self.config.api_keys:
            self.record.auth_method = "header-key"
        elif token and self._state.tokens.redeem(token)[0]:
            self.record.auth_method = "query-token"
        else:
            self.fail(4001, NOT_AUTHORIZED, {"error": NOT_AUTHORIZED})
            return
        try:
            self._sample_rate = int((request.query.get("sample_rate") or [""])[-1])
            if self._sample_rate <= 0:
                raise ValueError
            extra = (request.query.get("enable_extra_session_information") or ["false"])[-1]
            self._extra_info = parse_bool("enable_extra_session_information", extra)
        except (ValueError, ParamError):
            # v2 code 4000 (PROTOCOL.md §2.1, §5.2).
            message = "Sample rate must be a positive integer"
            self.fail(4000, message, {"error": message})
            return
        params = SessionParams(sample_rate=self._sample_rate)
        self.record.params = self.record.current_params = params
        factory = self.config.recognizer_factory
        self._recognizer = factory(params) if factory else ScriptedRecognizer()
        self.spawn(self._greet_then_write())

    async def _greet_then_write(self) -> None:
        session_id = str(uuid.uuid4())
        self.record.session_id = session_id
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.config.session_max_seconds)
        await self.send_json(
            {"message_type": "SessionBegins", "session_id": session_id, "expires_at": _iso(expires)}
        )
        self.record.began = True
        await self.drain_outbox()

    def on_binary(self, data: bytes) -> None:
        if self._recognizer is None:
            return
        self._audio_bytes += len(data)
        total_ms = self._audio_bytes * 1000 // (2 * self._sample_rate)
        self._publish(self._recognizer.feed(data, total_ms))

    def on_text(self, text: str) -> None:
        if self._recognizer is None:
            return
        try:
            message: Any = json.loads(text)
        except ValueError:
            # 4100 per the SDK tables (PROTOCOL.md §5.2); the mapping is UNCERTAIN.
            self.fail(4100, "Endpoint received invalid JSON", {"error": "Invalid JSON"})
            return
        if not isinstance(message, dict):
            self._bad_schema()
        elif isinstance(message.get("audio_data"), str):
            try:
                audio = base64.b64decode(message["audio_data"], validate=True)
            except binascii.Error:
                self._bad_schema()
                return
            self.on_binary(audio)
        elif message.get("terminate_session") is True:
            self._publish(self._recognizer.finish())
            if self._extra_info:
                seconds = self._audio_bytes / (2 * self._sample_rate)
                self.enqueue(
                    {"message_type": "SessionInformation", "audio_duration_seconds": seconds}
                )
            self.enqueue({"message_type": "SessionTerminated"})
            self.enqueue(CloseRequest(1000, ""))
            self._recognizer = None
        elif message.get("force_end_utterance") is True:
            self._publish(self._recognizer.force_endpoint())
        elif "end_utterance_silence_threshold" not in message:
            self._bad_schema()

    def _bad_schema(self) -> None:
        reason = "Endpoint received a message with an invalid schema"
        self.fail(4101, reason, {"error": reason})

    def _publish(self, updates: list[TurnUpdate]) -> None:
        for update in updates:
            if not update.words:
                continue
            text = " ".join(w.text for w in update.words)
            message: dict[str, Any] = {
                "message_type": "FinalTranscript" if update.end_of_turn else "PartialTranscript",
                "created": _iso(dt.datetime.now(dt.UTC)),
                "audio_start": update.words[0].start_ms,
                "audio_end": update.words[-1].end_ms,
                "confidence": sum(w.confidence for w in update.words) / len(update.words),
                "text": format_text(text) if update.end_of_turn else text,
                "words": [
                    {
                        "start": w.start_ms,
                        "end": w.end_ms,
                        "confidence": w.confidence,
                        "text": w.text,
                    }
                    for w in update.words
                ],
            }
            if update.end_of_turn:
                message.update(punctuated=True, text_formatted=True)
            self.enqueue(message)
