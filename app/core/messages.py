"""AssemblyAI Universal Streaming (v3) messages: parse what the server sends, serialise what
the client sends. Pure: text in, frozen dataclasses out (see ``shared/PROTOCOL.md`` §3-§4).

``parse(frame)`` returns one of the ``ServerMessage`` types or raises :class:`ProtocolError`.
It never raises anything else, whatever the input (a hypothesis test holds it to that), and the
error text never quotes the payload, so nothing the server echoes can leak into a log.

Unknown message types are not errors: they come back as :class:`UnknownMessage` so the
session can log and ignore them (the service adds optional messages over time). Unknown fields
in known messages are ignored, as the official SDKs do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from app.core.errors import ProtocolError

# --- server → client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Begin:
    """First message of a session."""

    id: str
    expires_at: int  # Unix seconds
    configuration: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Word:
    text: str
    start: int  # ms from stream start
    end: int
    confidence: float
    word_is_final: bool
    speaker: str | None = None


@dataclass(frozen=True)
class Turn:
    turn_order: int
    turn_is_formatted: bool
    end_of_turn: bool
    transcript: str
    end_of_turn_confidence: float
    words: tuple[Word, ...]
    utterance: str = ""
    language_code: str | None = None
    language_confidence: float | None = None
    speaker_label: str | None = None

    @property
    def text(self) -> str:
        """What a person should see: the finalised words plus the non-final tail.

        ``transcript`` holds only finalised words (Universal-Streaming); the words list also
        has the trailing non-final ones, which a live pane should show as they arrive.
        """
        if self.end_of_turn or not self.words:
            return self.transcript
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Termination:
    """Last message of a session, after ``Terminate`` or on expiry."""

    audio_duration_seconds: int | None
    session_duration_seconds: int | None


@dataclass(frozen=True)
class SpeechStarted:
    timestamp: int
    confidence: float | None


@dataclass(frozen=True)
class ErrorMessage:
    """``{"type": "Error", "error_code": N, "error": …}`` or the older bare ``{"error": …}``.

    It precedes an error close; ``error_code`` equals the close code when present.
    """

    error: str
    error_code: int | None


@dataclass(frozen=True)
class WarningMessage:
    warning: str
    warning_code: int | None


@dataclass(frozen=True)
class UnknownMessage:
    """A well-formed JSON object whose ``type`` this app does not know."""

    type: str


ServerMessage = (
    Begin | Turn | Termination | SpeechStarted | ErrorMessage | WarningMessage | UnknownMessage
)

# --- field readers: each raises ProtocolError naming the field, never quoting the value ------


def _req(obj: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in obj:
        raise ProtocolError(f"{where} without '{name}'")
    return obj[name]


def _int(value: Any, name: str, where: str) -> int:
    # JSON has one number type; the service sends integers, but 1.0 is accepted as 1.
    if isinstance(value, bool):
        raise ProtocolError(f"{where}.{name} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ProtocolError(f"{where}.{name} is not an integer")


def _float(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{where}.{name} is not a number")
    result = float(value)
    if not math.isfinite(result):
        raise ProtocolError(f"{where}.{name} is not a finite number")
    return result


def _bool(value: Any, name: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"{where}.{name} is not a boolean")
    return value


def _str(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise ProtocolError(f"{where}.{name} is not a string")
    return value


def _opt(obj: Mapping[str, Any], name: str) -> Any:
    return obj.get(name)


def _unix_seconds(value: Any) -> int:
    # The service sends integer Unix seconds; the SDK also accepts floats and ISO strings.
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ProtocolError("Begin.expires_at is not a time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(_float(value, "expires_at", "Begin"))


def _word(raw: Any) -> Word:
    if not isinstance(raw, dict):
        raise ProtocolError("Turn.words holds a non-object")
    where = "Word"
    speaker = _opt(raw, "speaker")
    return Word(
        text=_str(_req(raw, "text", where), "text", where),
        start=_int(_req(raw, "start", where), "start", where),
        end=_int(_req(raw, "end", where), "end", where),
        confidence=_float(_req(raw, "confidence", where), "confidence", where),
        word_is_final=_bool(_req(raw, "word_is_final", where), "word_is_final", where),
        speaker=speaker if isinstance(speaker, str) else None,
    )


def _parse_begin(obj: Mapping[str, Any]) -> Begin:
    configuration = obj.get("configuration")
    return Begin(
        id=_str(_req(obj, "id", "Begin"), "id", "Begin"),
        expires_at=_unix_seconds(_req(obj, "expires_at", "Begin")),
        configuration=dict(configuration) if isinstance(configuration, dict) else {},
    )


def _parse_turn(obj: Mapping[str, Any]) -> Turn:
    w = "Turn"
    words = _req(obj, "words", w)
    if not isinstance(words, list):
        raise ProtocolError("Turn.words is not a list")
    turn_order = _int(_req(obj, "turn_order", w), "turn_order", w)
    if turn_order < 0:
        raise ProtocolError("Turn.turn_order is negative")
    language_confidence = _opt(obj, "language_confidence")
    language_code = _opt(obj, "language_code")
    speaker_label = _opt(obj, "speaker_label")
    utterance = _opt(obj, "utterance")
    return Turn(
        turn_order=turn_order,
        turn_is_formatted=_bool(_req(obj, "turn_is_formatted", w), "turn_is_formatted", w),
        end_of_turn=_bool(_req(obj, "end_of_turn", w), "end_of_turn", w),
        transcript=_str(_req(obj, "transcript", w), "transcript", w),
        # Required by the spec, but some servers omit it on partials: default to 0.
        end_of_turn_confidence=_float(obj.get("end_of_turn_confidence", 0.0),
                                      "end_of_turn_confidence", w),
        words=tuple(_word(raw) for raw in words),
        utterance=utterance if isinstance(utterance, str) else "",
        language_code=language_code if isinstance(language_code, str) else None,
        language_confidence=(
            _float(language_confidence, "language_confidence", w)
            if language_confidence is not None else None
        ),
        speaker_label=speaker_label if isinstance(speaker_label, str) else None,
    )


def _opt_int(obj: Mapping[str, Any], name: str, where: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    # Durations are integers on the wire; tolerate a float and round it.
    return round(_float(value, name, where))


def _parse_termination(obj: Mapping[str, Any]) -> Termination:
    return Termination(
        audio_duration_seconds=_opt_int(obj, "audio_duration_seconds", "Termination"),
        session_duration_seconds=_opt_int(obj, "session_duration_seconds", "Termination"),
    )


def _parse_error(obj: Mapping[str, Any]) -> ErrorMessage:
    text = obj.get("error", "")
    code = obj.get("error_code")
    return ErrorMessage(
        error=text if isinstance(text, str) else json.dumps(text)[:200],
        error_code=_int(code, "error_code", "Error") if code is not None else None,
    )


def _parse_speech_started(obj: Mapping[str, Any]) -> SpeechStarted:
    confidence = obj.get("confidence")
    return SpeechStarted(
        timestamp=_int(_req(obj, "timestamp", "SpeechStarted"), "timestamp", "SpeechStarted"),
        confidence=(_float(confidence, "confidence", "SpeechStarted")
                    if confidence is not None else None),
    )


def _parse_warning(obj: Mapping[str, Any]) -> WarningMessage:
    text = obj.get("warning", "")
    code = obj.get("warning_code")
    return WarningMessage(
        warning=text if isinstance(text, str) else "",
        warning_code=_int(code, "warning_code", "Warning") if code is not None else None,
    )


_PARSERS: Final[dict[str, Callable[[Mapping[str, Any]], ServerMessage]]] = {
    "Begin": _parse_begin,
    "Turn": _parse_turn,
    "Termination": _parse_termination,
    "Error": _parse_error,
    "SpeechStarted": _parse_speech_started,
    "Warning": _parse_warning,
}

MAX_FRAME_CHARS: Final = 4 * 1024 * 1024


def parse(frame: str | bytes) -> ServerMessage:
    """Parse one text frame from the server. Raises only :class:`ProtocolError`."""
    if isinstance(frame, bytes | bytearray | memoryview):
        try:
            frame = bytes(frame).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a binary frame that is not UTF-8 text") from None
    if len(frame) > MAX_FRAME_CHARS:
        raise ProtocolError("a frame larger than 4 MiB")
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError):
        raise ProtocolError("text that is not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("JSON that is not an object")
    kind = obj.get("type")
    if kind is None:
        if "error" in obj:  # the older bare {"error": …} form
            return _parse_error(obj)
        raise ProtocolError("a message without a type")
    if not isinstance(kind, str):
        raise ProtocolError("a message whose type is not a string")
    parser = _PARSERS.get(kind)
    if parser is None:
        return UnknownMessage(type=kind[:64])
    try:
        return parser(obj)
    except ProtocolError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise ProtocolError(f"a {kind} message with invalid fields") from None


# --- client → server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Terminate:
    """Ask the server to flush the last turn(s), send ``Termination`` and close."""


@dataclass(frozen=True)
class ForceEndpoint:
    """End the current turn now."""


@dataclass(frozen=True)
class KeepAlive:
    """Reset the inactivity timer (only relevant with ``inactivity_timeout``)."""


@dataclass(frozen=True)
class UpdateConfiguration:
    """Change turn detection or key terms mid-session. ``None`` fields are not sent."""

    end_of_turn_confidence_threshold: float | None = None
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    vad_threshold: float | None = None
    format_turns: bool | None = None
    keyterms_prompt: tuple[str, ...] | None = None


ClientMessage = Terminate | ForceEndpoint | KeepAlive | UpdateConfiguration


def serialize(message: ClientMessage) -> str:
    """The compact JSON text frame for a client message."""
    payload: dict[str, Any] = {"type": type(message).__name__}
    if isinstance(message, UpdateConfiguration):
        for name, value in vars(message).items():
            if value is not None:
                payload[name] = list(value) if isinstance(value, tuple) else value
    return json.dumps(payload, separators=(",", ":"))
