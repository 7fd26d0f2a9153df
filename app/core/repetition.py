"""Decode loops: Whisper repeating itself ("the the the the", a phrase over and over).

Pure. A small Whisper model that loses its place in the audio (a window ending mid-word, noise,
a tone) can emit the same word or phrase again and again until its token budget runs out.
Whisper's own filter (a zlib compression ratio above 2.4) catches a long loop but not a short
one, nor a loop inside a segment of otherwise good text. People repeat themselves too, though:
"no, no", "very very", "no, no, no" are speech. The line drawn here, on the words' texts
(lower case, letters, digits and apostrophes: ``normalise``):

* one word said ``word_repeats`` (4) or more times in a row is a loop;
* a phrase of two or three words ``short_repeats`` (3) or more times in a row is a loop;
* a phrase of ``long_phrase`` (4) or more words twice in a row is a loop (nobody reads a
  whole clause out twice, back to back, but a looping decoder does).

:func:`find_loop` finds the first such run; :func:`trim_loops` keeps one copy of each run's
phrase and drops the copies. The recogniser decodes again on a loop by these rules, and trims by
the stricter ``TRIM_RULES`` (a sentence said twice in a row is rare, but it is speech).

:func:`stutters` looks at the decoder's word pieces instead: the same lone sign twice in a row
(" $" " $" " 4") is no word anyone says but the first steps of a loop on that token, and the
number after it is usually wrong ("tickets cost $ $ $ 4 adults" for "$18 for adults"): such a
decode is decoded again too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from app.core.agreement import normalise

_T = TypeVar("_T")


@dataclass(frozen=True)
class LoopRules:
    word_repeats: int = 4  # one word this many times in a row
    short_repeats: int = 3  # a phrase of 2-3 words this many times in a row
    long_phrase: int = 4  # a phrase of at least this many words ...
    long_repeats: int = 2  # ... this many times in a row
    max_phrase: int = 12  # longest phrase looked for

    def repeats_needed(self, size: int) -> int:
        if size == 1:
            return self.word_repeats
        return self.short_repeats if size < self.long_phrase else self.long_repeats


# What is cut from a decode that still loops after a second decode: only runs no one says
# ("no no no no" and a sentence said twice stay; a loop goes on until the token limit).
TRIM_RULES = LoopRules(word_repeats=5, short_repeats=4, long_repeats=3)


@dataclass(frozen=True)
class Loop:
    """``keys[start:end]`` is ``copies`` copies of a phrase of ``size`` words."""

    start: int
    size: int
    copies: int

    @property
    def end(self) -> int:
        return self.start + self.size * self.copies


def find_loop(texts: Sequence[str], rules: LoopRules = LoopRules()) -> Loop | None:
    """The first loop in ``texts`` (words as written), or None. At one start, the shortest
    phrase that loops wins ("the the the the" is one word four times, not a phrase twice)."""
    keys = [normalise(t) for t in texts]
    for start in range(len(keys)):
        for size in range(1, min(rules.max_phrase, (len(keys) - start) // 2) + 1):
            phrase = keys[start:start + size]
            if not all(phrase):  # a lone mark ("-", "...") is no word to count
                continue
            copies = 1
            while keys[start + copies * size:start + (copies + 1) * size] == phrase:
                copies += 1
            if copies >= rules.repeats_needed(size):
                return Loop(start, size, copies)
    return None


def stutters(pieces: Sequence[str]) -> bool:
    """Whether the decoder wrote one sign (a piece with no letter, digit or punctuation
    mark: "$", "%", "&") twice in a row: the start of a loop on that token."""
    signs = [p.strip() if _is_sign(p.strip()) else None for p in pieces]
    return any(a is not None and a == b for a, b in zip(signs, signs[1:], strict=False))


def _is_sign(text: str) -> bool:
    return bool(text) and not any(c.isalnum() or c in _MARKS for c in text)


_MARKS = frozenset(".,!?;:'\"-()[]")


def trim_loops(items: Sequence[_T], texts: Sequence[str],
               rules: LoopRules = LoopRules()) -> list[_T]:
    """``items`` (one per word of ``texts``) with every loop's copies after the first
    dropped."""
    kept = list(items)
    keys = list(texts)
    while (loop := find_loop(keys, rules)) is not None:
        cut = slice(loop.start + loop.size, loop.end)
        del kept[cut]
        del keys[cut]
    return kept
