"""Transcript exporters and parsers: strings in, strings out (writing files is ``app/io``'s job).

* TXT: one paragraph per turn (:func:`~app.core.transcript.paragraph_text`), a blank line
  between paragraphs, a newline at the end; ``Name: `` before a turn with a speaker, and
  optionally ``[hh:mm:ss] `` before that for each timed turn.
* SRT and WebVTT: see :mod:`app.core.subtitles` for the cue rules; re-exported here.
* JSON: full fidelity, read back by :func:`from_json` into equal :class:`TranscriptTurn` values.
  Each turn's ``language`` is the ISO code a multilingual model heard (null when unknown); files
  written before it existed read back with null.

Every exporter takes the turns in display order and, unless ``include_partial`` is true, keeps
only final ones. Parsers raise :class:`ExportError` with a plain sentence on malformed input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, Final

from app.core.clock import long_clock
from app.core.errors import ExportError
from app.core.messages import Word
from app.core.subtitles import Cue, cues, parse_srt, parse_vtt, to_srt, to_vtt
from app.core.transcript import TranscriptTurn, said_text

__all__ = [
    "JSON_FORMAT_NAME",
    "JSON_VERSION",
    "Cue",
    "Format",
    "cues",
    "from_json",
    "parse_srt",
    "parse_vtt",
    "render",
    "to_json",
    "to_srt",
    "to_txt",
    "to_vtt",
    "turn_from_dict",
    "turn_to_dict",
]

JSON_FORMAT_NAME: Final = "live-transcriber-transcript"
JSON_VERSION: Final = 1


class Format(Enum):
    """An export format; the value is the file suffix without the dot."""

    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"

    @property
    def suffix(self) -> str:
        return f".{self.value}"

    @property
    def description(self) -> str:
        """A name for a file dialog's type list."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Final = {
    Format.TXT: "Plain text",
    Format.SRT: "SubRip subtitles",
    Format.VTT: "WebVTT subtitles",
    Format.JSON: "Live Transcriber transcript (JSON)",
}


def render(
    format: Format,
    turns: Sequence[TranscriptTurn],
    *,
    include_partial: bool = False,
    timestamps: bool = False,
) -> str:
    """The text of ``turns`` in ``format``. ``timestamps`` applies to TXT only."""
    if format is Format.TXT:
        return to_txt(turns, timestamps=timestamps, include_partial=include_partial)
    if format is Format.SRT:
        return to_srt(turns, include_partial=include_partial)
    if format is Format.VTT:
        return to_vtt(turns, include_partial=include_partial)
    return to_json(turns, include_partial=include_partial)


def to_txt(
    turns: Sequence[TranscriptTurn], *, timestamps: bool = False, include_partial: bool = False
) -> str:
    """Plain text. With ``timestamps`` each turn that has times starts with ``[hh:mm:ss] ``
    (its first word, rounded down); turns without times get no prefix."""
    paragraphs = []
    for turn in turns:
        text = said_text(turn)
        if not text or not (turn.final or include_partial):
            continue
        if timestamps and turn.start_ms is not None:
            text = f"[{long_clock(turn.start_ms)}] {text}"
        paragraphs.append(text)
    return "\n\n".join(paragraphs) + "\n" if paragraphs else ""


# --- JSON ------------------------------------------------------------------------------------


def _word_json(word: Word) -> dict[str, Any]:
    return {
        "text": word.text,
        "start": word.start,
        "end": word.end,
        "confidence": word.confidence,
        "word_is_final": word.word_is_final,
        "speaker": word.speaker,
    }


def turn_to_dict(turn: TranscriptTurn) -> dict[str, Any]:
    """Every field of ``turn`` as JSON-ready values (one turn of :func:`to_json`)."""
    return {
        "segment": turn.segment,
        "order": turn.order,
        "text": turn.text,
        "final": turn.final,
        "formatted": turn.formatted,
        "interrupted": turn.interrupted,
        "speaker": turn.speaker,
        "language": turn.language,
        "start_ms": turn.start_ms,
        "end_ms": turn.end_ms,
        "words": [_word_json(w) for w in turn.words],
    }


def to_json(turns: Sequence[TranscriptTurn], *, include_partial: bool = False) -> str:
    """Every field of every turn and word, with a format name and version for the reader.

    One turn per line: long transcripts stay readable and diff well, and the whole is still
    one JSON document. Non-ASCII text is written as it is, not as escapes.
    """
    try:
        lines = [
            "    " + json.dumps(turn_to_dict(t), ensure_ascii=False, allow_nan=False)
            for t in turns
            if t.final or include_partial
        ]
    except ValueError:
        raise ExportError(
            "The transcript could not be saved as JSON: a word confidence is not a number.",
            remedy="Export it as text or subtitles instead.",
        ) from None
    body = "[\n" + ",\n".join(lines) + "\n  ]" if lines else "[]"
    return (
        f'{{\n  "format": {json.dumps(JSON_FORMAT_NAME)},\n  "version": {JSON_VERSION},\n'
        f'  "turns": {body}\n}}\n'
    )


def _damaged(problem: str) -> ExportError:
    return ExportError(
        f"The transcript file is damaged: {problem}.",
        remedy="Open a JSON file that Live Transcriber exported.",
    )


class _Reader:
    """Typed field access that names the place of a bad value, never quoting it."""

    def __init__(self, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            raise _damaged(f"{where} is not an object")
        self.obj: Mapping[str, Any] = obj
        self.where = where

    def _get(self, name: str, kinds: tuple[type, ...], what: str, optional: bool = False) -> Any:
        value = self.obj.get(name)
        if value is None and optional:
            return None
        # bool is an int in Python; in the file they are different things.
        if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds):
            raise _damaged(f"{self.where} has no valid '{name}' ({what})")
        return value

    def integer(self, name: str) -> int:
        value: int = self._get(name, (int,), "a whole number")
        return value

    def optional_integer(self, name: str) -> int | None:
        value: int | None = self._get(name, (int,), "a whole number or null", optional=True)
        return value

    def text(self, name: str) -> str:
        value: str = self._get(name, (str,), "text")
        return value

    def optional_text(self, name: str) -> str | None:
        value: str | None = self._get(name, (str,), "text or null", optional=True)
        return value

    def flag(self, name: str) -> bool:
        value: bool = self._get(name, (bool,), "true or false")
        return value

    def number(self, name: str) -> float:
        return float(self._get(name, (int, float), "a number"))

    def items(self, name: str) -> list[Any]:
        value: list[Any] = self._get(name, (list,), "a list")
        return value


def _word_from(raw: Any, where: str) -> Word:
    r = _Reader(raw, where)
    return Word(
        text=r.text("text"),
        start=r.integer("start"),
        end=r.integer("end"),
        confidence=r.number("confidence"),
        word_is_final=r.flag("word_is_final"),
        speaker=r.optional_text("speaker"),
    )


def turn_from_dict(raw: Any, where: str) -> TranscriptTurn:
    """The turn :func:`turn_to_dict` wrote; :class:`ExportError` naming ``where`` if malformed."""
    r = _Reader(raw, where)
    words = tuple(
        _word_from(w, f"word {n} of {where}") for n, w in enumerate(r.items("words"), start=1)
    )
    return TranscriptTurn(
        order=r.integer("order"),
        text=r.text("text"),
        words=words,
        final=r.flag("final"),
        formatted=r.flag("formatted"),
        start_ms=r.optional_integer("start_ms"),
        end_ms=r.optional_integer("end_ms"),
        speaker=r.optional_text("speaker"),
        interrupted=r.flag("interrupted"),
        segment=r.integer("segment"),
        language=r.optional_text("language"),
    )


def from_json(text: str) -> list[TranscriptTurn]:
    """The turns of a file written by :func:`to_json`, equal to the ones exported."""
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        raise ExportError(
            "The file is not valid JSON.",
            remedy="Open a JSON file that Live Transcriber exported.",
        ) from None
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT_NAME:
        raise ExportError(
            "The file is not a Live Transcriber transcript.",
            remedy="Open a JSON file that Live Transcriber exported.",
        )
    version = _Reader(document, "the file").integer("version")
    if version > JSON_VERSION:
        raise ExportError(
            f"The transcript was saved by a newer Live Transcriber (format {version}).",
            remedy="Update Live Transcriber to open it.",
        )
    if version < 1:
        raise _damaged(f"its format version {version} does not exist")
    turns = _Reader(document, "the file").items("turns")
    return [turn_from_dict(t, f"turn {n}") for n, t in enumerate(turns, start=1)]
