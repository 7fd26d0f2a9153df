"""Parsing of the v3 connection query and of `UpdateConfiguration` (PROTOCOL.md §2.2, §3.2, §10).

Real clients differ in how they encode values: the Python SDK sends booleans as `True`/`False`
(urlencode of a Python bool), Node as `true`/`false`; lists are JSON then form-encoded.  Unknown
parameters are ignored, as the service ignores them.  When a name appears twice the last value
wins (UNCERTAIN: the service's rule is not documented).

Which validation failures the real service reports, and with which words, is not documented
beyond the close codes; the reason texts below are the emulator's own (UNCERTAIN).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from .config import CLOSE_INVALID_INPUT, SessionParams

SPEECH_MODELS = frozenset(
    {
        "universal-streaming-english",
        "universal-streaming-multilingual",
        "whisper-rt",
        "u3-rt-pro",
        "u3-rt-pro-beta-1",
        "universal-3-5-pro",
        "u3-pro",
    }
)
# opus/ogg_opus/aac exist only in the 2026 SDK (PROTOCOL.md §2.2) and are out of scope.
ENCODINGS = frozenset({"pcm_s16le", "pcm_mulaw"})


class ParamError(Exception):
    """A query parameter the service would refuse; closes the session with `code`."""

    def __init__(self, reason: str, code: int = CLOSE_INVALID_INPUT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ParamError(f"Invalid Query Parameter: {name} must be a boolean, got {value!r}")


def _parse_int(name: str, value: str, *, positive: bool = False) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ParamError(f"Invalid Query Parameter: {name} must be an integer") from None
    if positive and number <= 0:
        raise ParamError(f"Invalid Query Parameter: {name} must be a positive integer")
    return number


def _parse_float(
    name: str, value: str, low: float | None = None, high: float | None = None
) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ParamError(f"Invalid Query Parameter: {name} must be a number") from None
    if (
        not math.isfinite(number)
        or (low is not None and number < low)
        or (high is not None and number > high)
    ):
        raise ParamError(f"Invalid Query Parameter: {name} out of range")
    return number


def _parse_keyterms(value: str) -> tuple[str, ...]:
    try:
        decoded = json.loads(value)
    except ValueError:
        raise ParamError("Invalid Query Parameter: keyterms_prompt must be a JSON list") from None
    if not isinstance(decoded, list) or not all(isinstance(t, str) for t in decoded):
        raise ParamError("Invalid Query Parameter: keyterms_prompt must be a list of strings")
    return tuple(decoded)


def parse_v3_params(query: Mapping[str, list[str]], *, require_speech_model: bool) -> SessionParams:
    """`query` is `urllib.parse.parse_qs` output.  Raises `ParamError`."""
    last = {name: values[-1] for name, values in query.items() if values}
    fields: dict[str, Any] = {}
    if "sample_rate" in last:
        fields["sample_rate"] = _parse_int("sample_rate", last["sample_rate"], positive=True)
    if "encoding" in last:
        if last["encoding"] not in ENCODINGS:
            raise ParamError(f"Invalid Query Parameter: unsupported encoding {last['encoding']!r}")
        fields["encoding"] = last["encoding"]
    if "speech_model" in last:
        if last["speech_model"] not in SPEECH_MODELS:
            raise ParamError(
                f"Invalid Query Parameter: unknown speech_model {last['speech_model']!r}"
            )
        fields["speech_model"] = last["speech_model"]
    elif require_speech_model:
        raise ParamError("Invalid Query Parameter: speech_model is required")
    for name in ("format_turns", "language_detection", "speaker_labels", "filter_profanity"):
        if name in last:
            fields[name] = parse_bool(name, last[name])
    if "keyterms_prompt" in last:
        fields["keyterms_prompt"] = _parse_keyterms(last["keyterms_prompt"])
    for name in ("end_of_turn_confidence_threshold", "vad_threshold"):
        if name in last:
            fields[name] = _parse_float(name, last[name], 0.0, 1.0)
    # The deprecated name still arrives from the Node SDK (PROTOCOL.md §2.2); new name wins.
    for name in ("min_end_of_turn_silence_when_confident", "min_turn_silence"):
        if name in last:
            fields["min_turn_silence"] = _parse_int(name, last[name])
    if "max_turn_silence" in last:
        fields["max_turn_silence"] = _parse_int("max_turn_silence", last["max_turn_silence"])
    if "inactivity_timeout" in last:
        # Deviation: the service documents 5..3600 s; any positive value is accepted so tests
        # can exercise the timeout quickly.
        fields["inactivity_timeout"] = _parse_float(
            "inactivity_timeout", last["inactivity_timeout"], 0.001
        )
    if "prompt" in last:
        fields["prompt"] = last["prompt"]
    return SessionParams(**fields)


def apply_update(params: SessionParams, payload: Mapping[str, Any]) -> SessionParams:
    """Apply the known fields of an `UpdateConfiguration` message (PROTOCOL.md §3.2).

    Values of the wrong JSON type are ignored rather than rejected: the service's reaction is
    undocumented (UNCERTAIN) and a lenient emulator never fails a client for it.
    """
    changes: dict[str, Any] = {}

    def number(value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    for name in ("end_of_turn_confidence_threshold", "vad_threshold"):
        value = number(payload.get(name))
        if value is not None:
            changes[name] = value
    for source in ("min_end_of_turn_silence_when_confident", "min_turn_silence"):
        value = number(payload.get(source))
        if value is not None:
            changes["min_turn_silence"] = int(value)
    value = number(payload.get("max_turn_silence"))
    if value is not None:
        changes["max_turn_silence"] = int(value)
    for name in ("format_turns", "filter_profanity"):
        if isinstance(payload.get(name), bool):
            changes[name] = payload[name]
    terms = payload.get("keyterms_prompt")
    if isinstance(terms, list) and all(isinstance(t, str) for t in terms):
        # `keyterms_prompt: []` clears the keyterms (PROTOCOL.md §3.2).
        changes["keyterms_prompt"] = tuple(terms)
    if isinstance(payload.get("prompt"), str):
        changes["prompt"] = payload["prompt"]
    return dataclasses.replace(params, **changes)
