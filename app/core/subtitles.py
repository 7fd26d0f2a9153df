"""Subtitles: a transcript as SubRip (SRT) or WebVTT cues, and those files parsed back.

Cue rules (:func:`cues`):

* Only final turns are exported unless ``include_partial``; turns without text are skipped.
  A cue's text is the turn's text split at whitespace and re-joined with single spaces, so
  line breaks and blank lines in a turn can never break the file.
* Timing comes from the words when the words spell the turn's text (the usual case). When they
  do not (or there are none) but the turn has ``start_ms``/``end_ms``, each word's time is
  interpolated by its character position in that span. A turn with no timing at all starts
  where the previous cue ended (0 for the first) and lasts ``SYNTHETIC_MS_PER_CHAR`` per
  character, at least ``MIN_CUE_MS``.
* A turn is split at word boundaries into cues that fit on ``MAX_LINES`` lines of at most
  ``MAX_LINE_CHARS`` characters (lines balanced) and span at most ``MAX_CUE_MS``. A single word
  longer than a line gets a cue of its own; it is never cut.
* Times are then made safe for players: starts never go backwards (a start earlier than the
  previous cue's is raised to it) nor below 0; every cue lasts at least ``MIN_CUE_MS``, but is
  shortened so that it ends when the next cue starts, as long as that still leaves it a positive
  duration. So ``end > start`` always, and cues overlap only when they start at the same time.

Speakers: a turn with a speaker (:func:`~app.core.transcript.speaker_name`) gives cues that say
who speaks: SRT has no voice markup that players agree on, so each of its cues starts with
``Name: `` (counted in the line length); WebVTT's cues start with a voice tag ``<v Name>``, which
:func:`parse_vtt` reads back into :attr:`Cue.speaker`.

Escaping: SRT has no escape mechanism, so the timing arrow ``-->`` inside text is written as
``-‑>`` (the second hyphen is U+2011, a non-breaking hyphen: it looks the same, and no parser
takes it for a timing line). WebVTT escapes ``&``, ``<`` and ``>`` as entities, which also
covers ``-->``. Parsers join a cue's lines with one space; the WebVTT parser drops markup tags
and unescapes entities. Both accept ``\\r\\n``, a BOM and trailing whitespace, and raise
:class:`ExportError` with a plain sentence on anything malformed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from app.core.clock import long_clock
from app.core.errors import ExportError
from app.core.transcript import TranscriptTurn, speaker_name

MAX_LINE_CHARS: Final = 42
MAX_LINES: Final = 2
MAX_CUE_MS: Final = 7_000
MIN_CUE_MS: Final = 500
SYNTHETIC_MS_PER_CHAR: Final = 60
SRT_ARROW: Final = "-\u2011>"


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str  # single line; how it wraps is the writer's business
    speaker: str | None = None  # who says it (one line, single spaces), if known


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _tokens(turn: TranscriptTurn, cursor: int) -> list[_Token]:
    parts = turn.text.split()
    if not parts:
        return []
    timed = [_Token(p, w.start, w.end) for w in turn.words for p in w.text.split()]
    if [t.text for t in timed] == parts:
        return timed
    if turn.start_ms is not None and turn.end_ms is not None:
        start, end = turn.start_ms, max(turn.start_ms, turn.end_ms)
    else:
        start = cursor
        end = cursor + max(MIN_CUE_MS, SYNTHETIC_MS_PER_CHAR * len(" ".join(parts)))
    total = len(" ".join(parts))
    tokens: list[_Token] = []
    position = 0
    for part in parts:
        first = start + (end - start) * position // total
        position += len(part)
        tokens.append(_Token(part, first, start + (end - start) * position // total))
        position += 1  # the space
    return tokens


def wrap(parts: Sequence[str]) -> list[str] | None:
    """Words on at most ``MAX_LINES`` balanced lines of ``MAX_LINE_CHARS``; None if impossible.

    Balanced means the longer line is as short as possible; on a tie the top line is the
    shorter one (the usual subtitle shape).
    """
    lengths = [len(p) for p in parts]
    total = sum(lengths) + len(parts) - 1
    if total <= MAX_LINE_CHARS:
        return [" ".join(parts)]
    best: tuple[int, int, int] | None = None
    top = -1  # length of the first line so far, without its trailing space
    for split in range(1, len(parts)):
        top += lengths[split - 1] + 1
        bottom = total - top - 1
        if top <= MAX_LINE_CHARS and bottom <= MAX_LINE_CHARS:
            score = (max(top, bottom), top, split)
            best = score if best is None else min(best, score)
    if best is None:
        return None
    split = best[2]
    return [" ".join(parts[:split]), " ".join(parts[split:])]


def _label(speaker: str | None) -> list[str]:
    """The words SRT puts before a cue's text for ``speaker`` (none without a speaker)."""
    return [f"{speaker}:"] if speaker else []


def _chunks(tokens: list[_Token], label: list[str]) -> Iterator[list[_Token]]:
    chunk: list[_Token] = []
    end = 0
    for token in tokens:
        if chunk and (
            max(end, token.end) - chunk[0].start > MAX_CUE_MS
            or wrap([*label, *(t.text for t in chunk), token.text]) is None
        ):
            yield chunk
            chunk = []
        end = max(end, token.end) if chunk else token.end
        chunk.append(token)
    if chunk:
        yield chunk


def cues(turns: Sequence[TranscriptTurn], *, include_partial: bool = False) -> list[Cue]:
    """The cues a subtitle file for ``turns`` holds, by the rules in the module docstring."""
    raw: list[tuple[int, int, str, str | None]] = []
    cursor = 0
    for turn in turns:
        if not (turn.final or include_partial):
            continue
        speaker = speaker_name(turn.speaker) or None
        for chunk in _chunks(_tokens(turn, cursor), _label(speaker)):
            start, end = chunk[0].start, max(t.end for t in chunk)
            raw.append((start, end, " ".join(t.text for t in chunk), speaker))
            cursor = max(cursor, start, end)
    starts: list[int] = []
    floor = 0
    for start, _, _, _ in raw:
        floor = max(floor, start)
        starts.append(floor)
    result: list[Cue] = []
    for i, (_, end, text, speaker) in enumerate(raw):
        start = starts[i]
        end = max(end, start + MIN_CUE_MS)
        if i + 1 < len(raw) and start < starts[i + 1] < end:
            end = starts[i + 1]
        result.append(Cue(start, end, text, speaker))
    return result



def _lines(text: str, label: Sequence[str] = ()) -> list[str]:
    parts = [*label, *text.split()]
    return wrap(parts) or [" ".join(parts)]  # None only for one word longer than a line


def to_srt(turns: Sequence[TranscriptTurn], *, include_partial: bool = False) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm`` times, blank line between cues."""
    blocks = []
    for number, cue in enumerate(cues(turns, include_partial=include_partial), start=1):
        lines = _lines(cue.text, _label(cue.speaker))
        text = "\n".join(line.replace("-->", SRT_ARROW) for line in lines)
        timing = f"{long_clock(cue.start_ms, ',')} --> {long_clock(cue.end_ms, ',')}"
        blocks.append(f"{number}\n{timing}\n{text}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(turns: Sequence[TranscriptTurn], *, include_partial: bool = False) -> str:
    """WebVTT text: ``WEBVTT`` header, ``HH:MM:SS.mmm`` times, text escaped as entities."""
    blocks = ["WEBVTT"]
    for cue in cues(turns, include_partial=include_partial):
        text = "\n".join(_vtt_escape(line) for line in _lines(cue.text))
        if cue.speaker:
            text = f"<v {_vtt_escape(cue.speaker)}>{text}"
        blocks.append(f"{long_clock(cue.start_ms, '.')} --> {long_clock(cue.end_ms, '.')}\n{text}")
    return "\n\n".join(blocks) + "\n"


# --- parsing ---------------------------------------------------------------------------------

_SRT_TIME = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIME}[ \t]*-->[ \t]*{_SRT_TIME}(?:[ \t].*)?")
_VTT_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?")
_VTT_TAG = re.compile(r"<[^>]*>")
_VTT_VOICE = re.compile(r"<v(?:\.[^ \t>]*)?[ \t]+([^>]*)>")
_VTT_SKIPPED_BLOCK = re.compile(r"(NOTE|STYLE|REGION)(?:[ \t].*)?")


def _blocks(text: str) -> Iterator[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the 1-based number of its first line."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    block: list[str] = []
    first = 0
    for number, line in enumerate(lines, start=1):
        line = line.rstrip()
        if line:
            if not block:
                first = number
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _ms(groups: Sequence[str | None]) -> int:
    hours, minutes, seconds, millis = (int(g) if g else 0 for g in groups)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


_REMEDY: Final = "Open a file that Live Transcriber or another subtitle tool wrote."


def _invalid(kind: str, problem: str) -> ExportError:
    return ExportError(f"The {kind} file is not valid: {problem}.", remedy=_REMEDY)


def _cue(
    kind: str, first: int, block: list[str], timing: re.Pattern[str], example: str
) -> tuple[int, int, list[str]]:
    """The times and text lines of one block whose time line is its first or second line."""
    for at in (0, 1)[: len(block)]:
        match = timing.fullmatch(block[at])
        if match is not None:
            break
    else:
        raise _invalid(kind, f"the cue on line {first} has no time line like {example}")
    groups = match.groups()
    start, end = _ms(groups[:4]), _ms(groups[4:])
    if end < start:
        raise _invalid(kind, f"the cue on line {first} ends before it starts")
    for number, line in enumerate(block[at + 1 :], start=first + at + 1):
        # Joining it into the text would hide a whole cue inside another one.
        if timing.fullmatch(line):
            raise _invalid(kind, f"the time line on line {number} is not after a blank line")
    return start, end, [line.strip() for line in block[at + 1 :]]


def parse_srt(text: str) -> list[Cue]:
    """The cues of a SubRip file, each with its lines joined by one space."""
    result = []
    for first, block in _blocks(text):
        start, end, lines = _cue("SRT", first, block, _SRT_TIMING,
                                 "00:00:01,000 --> 00:00:02,000")
        result.append(Cue(start, end, " ".join(lines)))
    return result


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file: tags dropped, entities unescaped, lines joined by a space.

    NOTE, STYLE and REGION blocks are skipped.
    """
    blocks = _blocks(text)
    header = next(blocks, None)
    if header is None or not re.fullmatch(r"WEBVTT(?:[ \t].*)?", header[1][0]):
        raise ExportError(
            "The file is not a WebVTT file: it does not start with the line WEBVTT.",
            remedy=_REMEDY,
        )
    if any("-->" in line for line in header[1][1:]):
        raise _invalid("WebVTT", "a blank line must separate the WEBVTT line from the cues")
    result = []
    for first, block in blocks:
        if _VTT_SKIPPED_BLOCK.fullmatch(block[0]):
            continue
        start, end, lines = _cue("WebVTT", first, block, _VTT_TIMING,
                                 "00:00:01.000 --> 00:00:02.000")
        voice = _VTT_VOICE.match(lines[0]) if lines else None
        speaker = " ".join(html.unescape(voice.group(1)).split()) if voice else ""
        plain = (html.unescape(_VTT_TAG.sub("", line)) for line in lines)
        result.append(Cue(start, end, " ".join(plain), speaker or None))
    return result
