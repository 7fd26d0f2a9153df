"""Where one turn hands over to the next, for the offline engine's streaming logic.

A turn of speech with no pause at all is cut mid-speech past ``hard_max_turn_ms``
(:func:`app.core.agreement.plan_step`), and the next turn's decodes hear ``lead_ms`` of the
audio before the cut again, as context. :func:`after_cut` leaves out the words of that lead that
the ended turn already has, so no word is lost or doubled at the cut.

A turn that begins shortly after the one before ended at a pause hears the end of the turns
before it again (``TurnRules.context_ms``), with those final words as the decoder's prefix, as
a one-shot decode of the recording would have heard them: :func:`context_words` picks those
words and :func:`after_prefix` drops them from the decode again.

Pure: words with times in, words out.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Literal

from app.core.agreement import TimedWord, normalise

_STRETCH_SLACK_MS = 40  # a first word "at the start" of the audio (Whisper's 20 ms steps)
_MATCH_SLACK_MS = 200  # how far two decodes' times of one word may differ


def after_cut(words: Sequence[TimedWord], cut_ms: int, ended: Sequence[TimedWord], *,
              lead_start_ms: int | None = None, max_ngram: int = 3,
              repeat_ms: int = 500) -> list[TimedWord]:
    """The words of a decode whose audio begins before ``cut_ms`` (the lead: the end of the
    turn that was cut there, heard again as context) that the ended turn does not have.
    ``ended``: that turn's final words; all times on the stream's clock.

    Word times are only roughly right, so the end of a word says on which side of the cut it
    lies (not its start: the first word of a decode often starts at the audio's start, when
    Whisper skips lead words the prompt already has), and the texts settle the rest: a lead
    word after the ended turn's last word was not in it (kept), and the ended turn's last
    words again right after the cut (their times came out late) are dropped, unless the
    decode had them before the cut already: then they were said twice ("no. No").
    ``lead_start_ms``: where the decoded audio begins (for a first word stretched over it).
    """
    if not ended:
        return list(words)
    lead = 0
    while lead < len(words) and words[lead].end_ms <= cut_ms:
        lead += 1
    new, how = _new_in_lead(words[:lead], ended, cut_ms, lead_start_ms,
                            following=words[lead] if lead < len(words) else None)
    if how == "twice":
        # The decode placed the ended turn's last word before the cut: the same words again
        # after it were said again ("No." at the end of one turn, "No, ..." opening the next).
        repeat_ms = -1
    # Lead words kept because they are nothing like the ended turn's last ones (Whisper
    # skipped the lead and timed the next words early) are this turn's, unless the ended
    # turn's words come right after them: then the decode did hear the lead, and they are
    # noise in it ("A out loud.").
    skipped = new if how == "skipped" else []
    rest = [*new, *words[lead:]] if how != "skipped" else list(words[lead:])
    for size in range(min(max_ngram, len(ended), len(rest)) if repeat_ms >= 0 else 0, 0, -1):
        if ([w.key for w in rest[:size]] == [w.key for w in ended[-size:]]
                and rest[size - 1].start_ms < cut_ms + repeat_ms):
            rest = rest[size:]
            skipped = []
            break
    rest = [*skipped, *rest]
    # Times stay in order across the cut (a first word stretched over the lead starts there).
    floor = ended[-1].end_ms
    return [w if w.start_ms >= floor else
            TimedWord(w.text, floor, max(floor, w.end_ms), w.confidence) for w in rest]


def _new_in_lead(lead: Sequence[TimedWord], ended: Sequence[TimedWord], cut_ms: int,
                 stretched_from: int | None, *, following: TimedWord | None = None,
                 reach: int = 3,
                 ) -> tuple[list[TimedWord], Literal["twice", "skipped", "heard"]]:
    """The words of ``lead`` that the ended turn does not have, and how they were told
    apart: "twice" (the lead holds the ended turn's last word, so the same words right after
    the cut were said again), "skipped" (by the likeness rule below: a guess that the words
    after the cut can undo) or "heard".

    Those after the last lead word that is the ended turn's last word. Else all of them when
    Whisper skipped the lead words the prompt has and stretched the first new word over
    them: it starts at ``stretched_from`` (the lead's start) and spans more than half the
    audio before ``cut_ms``. Else the lead worded the ended turn's last word differently
    ("ill-disposed" for "old-sposed": the two decodes heard different audio around it): the
    match is one of the ``reach`` words before it, and after it only words whose middle is
    past the end of the ended turn's last word are new. With no word in common, the longest
    start of the lead that is like the ended turn's last words (not :func:`_unlike`) is
    theirs and the rest is new: Whisper skipped the lead and the times of the next words
    came out early."""
    last = [index for index, word in enumerate(lead) if word.key == ended[-1].key]
    if last:
        return list(lead[last[-1] + 1:]), "twice"
    if not lead:
        return [], "heard"
    if (stretched_from is not None
            and lead[0].start_ms - stretched_from <= _STRETCH_SLACK_MS
            and (2 * (lead[0].end_ms - lead[0].start_ms) > cut_ms - stretched_from
                 or _runs_over_the_cut(lead, following, cut_ms))):
        return list(lead), "heard"
    for back in range(2, min(reach, len(ended)) + 1):
        # The same word where the ended turn had it: over before the ended word after it
        # began (give or take the two decodes' timing), not a new word that happens to be
        # the same ("by the fire," then "The letter": not that "the").
        follows = ended[-back + 1].start_ms + _MATCH_SLACK_MS
        matches = [index for index, word in enumerate(lead)
                   if word.key == ended[-back].key and word.end_ms <= follows]
        if matches:
            lead = lead[matches[-1] + 1:]
            break
    else:
        # No word in common: the longest start of the lead that is like the ended turn's
        # last words is those words heard differently; the rest is new.
        for size in range(len(lead), 0, -1):
            if not _unlike(lead[:size], ended[-size:]):
                return list(lead[size:]), "skipped"
        return list(lead), "skipped"
    return [w for w in lead if (w.start_ms + w.end_ms) // 2 >= ended[-1].end_ms], "heard"


def _runs_over_the_cut(lead: Sequence[TimedWord], following: TimedWord | None,
                       cut_ms: int) -> bool:
    """Whisper skipped the lead words the prompt has and timed the new words from the audio's
    start on: one lead word, and the word after it follows with no gap and runs over the cut
    ("the" 9680-10160 ms, "letter" 10160-11080 ms, the cut at 10680)."""
    return (len(lead) == 1 and following is not None
            and following.start_ms - lead[0].end_ms <= _STRETCH_SLACK_MS
            and following.end_ms > cut_ms)


def _unlike(heard: Sequence[TimedWord], ended: Sequence[TimedWord]) -> bool:
    """Whether ``heard`` cannot be ``ended`` heard differently ("too sae" is "to say."; "the"
    is not "fire,"): under half their letters in common."""
    return difflib.SequenceMatcher(None, " ".join(w.key for w in heard),
                                   " ".join(w.key for w in ended)).ratio() < 0.5


def context_words(finished: Sequence[TimedWord], before_ms: int, context_ms: int,
                  max_gap_ms: int) -> list[TimedWord]:
    """The last of the ``finished`` words (final, in order, stream clock) that lie within
    ``context_ms`` before ``before_ms``: the already-final speech a decode from ``before_ms``
    on hears again as context. None when a word reaches past ``before_ms`` (its audio is not
    all before it), or when the last one ended more than ``max_gap_ms`` before it (the speaker
    paused: the turn is not the same stretch of speech)."""
    if context_ms <= 0 or not finished or not 0 <= before_ms - finished[-1].end_ms <= max_gap_ms:
        return []
    start = len(finished)
    while start > 0 and finished[start - 1].start_ms >= before_ms - context_ms:
        start -= 1
    return list(finished[start:])


def after_prefix(words: Sequence[TimedWord], prefix: Sequence[str]) -> list[TimedWord]:
    """``words`` (a decode given ``prefix``, the texts of the words its audio begins with)
    without those words: Whisper writes a prefix out again, then goes on. Compared by their
    keys, so a changed case or mark does not matter; should the decode not begin with the
    prefix after all, only its first words that match are dropped."""
    keys = [key for key in (normalise(text) for text in prefix) if key]
    index = 0
    for key in keys:
        while index < len(words) and not words[index].key:
            index += 1  # a lone mark
        if index >= len(words) or words[index].key != key:
            break
        index += 1
    while 0 < index < len(words) and not words[index].key:
        index += 1  # the prefix's own closing mark
    return list(words[index:])
