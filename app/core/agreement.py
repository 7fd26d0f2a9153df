"""Streaming on top of a batch recogniser: the LocalAgreement-2 policy and the turn rules.

Pure: words with times in, decisions and ``Turn`` messages out. The offline engine
(``app/io/offline/transcriber.py``) owns the audio, the voice-activity detector and the
decoder, and asks this module what to do.

LocalAgreement-2 (Macháček, Dabre and Bojar, 2023, "Turning Whisper into Real-Time
Transcription System"): the current utterance is re-decoded from its start at a steady step.
Words are *committed* once two consecutive hypotheses agree on them — the longest common
prefix of the last two hypotheses beyond what is already committed. Committed words never
change; the rest of the newest hypothesis is the unstable tail, shown as the partial.

Turn rules (:func:`plan_step`, :func:`cut_in`): where a turn begins and ends, and so what its
final hears, depends on the audio alone (the detector's spans, and decodes of the turn's audio
at places on its own clock), never on when the engine happened to look, on the words its
partial decodes happened to show, or on the pace a busy machine falls back to: the same
recording gives the same finals however it was handed over. A turn ends at the end of speech
(``end_silence_ms`` of silence, once no speech can begin in it any more); when the speaker
goes on, from ``sentence_turn_ms`` into the turn on, every ``cut_step_ms``, the turn's audio
so far is decoded and the turn ends after the last sentence end that another word follows in
that decode (past ``clause_turn_ms`` a clause end, or the widest gap between two words), so
that the final of a sentence follows it closely and the decoded buffer (whose cost grows with
its length) stays short; past ``hard_max_turn_ms`` with no cut it ends there, mid-speech, and
the next turn's decodes hear ``lead_ms`` of audio before the cut again (``app/core/handover.py``
drops the words of that lead, which the ended turn has already). Partial decodes come every
``step_ms`` while speech goes on (less often when the machine is behind), and at once when a
pause begins, up to the pause: if it turns out to be the end of speech, that decode heard
exactly what the final hears, and the final Turn needs no further decode.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.messages import Turn, Word

_SENTENCE_ENDS = (".", "?", "!")
_CLAUSE_ENDS = (",", ";", ":")
# Words whose full stop marks an abbreviation, not the end of a sentence ("Mr. John
# Dashwood"): titles and the like that Whisper writes before a name or a word.
# Only those that are never a word of their own ("no.", "fig." and "etc." can end one).
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "mt", "jr", "sr", "rev",
                            "capt", "lt", "sgt", "gov", "vs", "eg", "ie"})


@dataclass(frozen=True)
class TimedWord:
    """One recognised word; times in ms on the stream's clock."""

    text: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0

    @property
    def key(self) -> str:
        """What two hypotheses must share for the word to count as agreed."""
        return normalise(self.text)


def normalise(text: str) -> str:
    """Lower case, letters, digits and apostrophes only.

    Whisper re-punctuates and re-capitalises the end of a growing buffer ("lunch." becomes
    "lunch," once more words follow); that must not count as disagreement.
    """
    return "".join(c for c in text.lower() if c.isalnum() or c == "'")


def ends_sentence(word: TimedWord) -> bool:
    """The word ends a sentence: it ends with ".", "?" or "!", and a full stop is not that of
    a title or abbreviation ("Mr.", "e.g.") or an initial ("J.")."""
    text = word.text.rstrip("\"')]")
    if not text.endswith(_SENTENCE_ENDS):
        return False
    if not text.endswith("."):
        return True
    stem = text.rstrip(".")
    if len(stem) == 1 and stem.isupper() and stem != "I":
        return False  # an initial
    return normalise(stem) not in _ABBREVIATIONS


def ends_clause(word: TimedWord) -> bool:
    return word.text.rstrip("\"')]").endswith(_CLAUSE_ENDS)


class LocalAgreement:
    """LocalAgreement-2 over the hypotheses of one turn.

    ``carried`` are words committed before the turn was split (they open this turn);
    ``previous`` is the unconfirmed tail of the last hypothesis before the split.
    """

    def __init__(self, carried: Sequence[TimedWord] = (), previous: Sequence[TimedWord] = (),
                 *, overlap_ms: int = 200, max_ngram: int = 5) -> None:
        self._committed: list[TimedWord] = list(carried)
        self._tail: tuple[TimedWord, ...] = tuple(previous)
        self._overlap_ms = overlap_ms
        self._max_ngram = max_ngram

    @property
    def committed(self) -> tuple[TimedWord, ...]:
        return tuple(self._committed)

    @property
    def tail(self) -> tuple[TimedWord, ...]:
        return self._tail

    def insert(self, hypothesis: Sequence[TimedWord]) -> int:
        """Take a new hypothesis of the whole turn; returns how many words it committed."""
        new = self.new_part(hypothesis)
        agreed = 0
        for mine, previous in zip(new, self._tail, strict=False):
            if mine.key != previous.key:
                break
            agreed += 1
        # The newest wording of an agreed word wins: it was decoded with more context.
        self._committed.extend(new[:agreed])
        self._tail = tuple(new[agreed:])
        return agreed

    def new_part(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        """The words of ``hypothesis`` that come after the committed ones."""
        committed = self._committed
        if not committed:
            return list(hypothesis)
        count = len(committed)
        if [w.key for w in hypothesis[:count]] == [w.key for w in committed]:
            return list(hypothesis[count:])
        # The decoder re-segmented the committed part: fall back to times, then drop a repeat
        # of the last committed words (the whisper_streaming rule).
        horizon = committed[-1].end_ms - self._overlap_ms
        later = [w for w in hypothesis if w.start_ms > horizon]
        for size in range(min(len(later), count, self._max_ngram), 0, -1):
            if [w.key for w in committed[-size:]] == [w.key for w in later[:size]]:
                return later[size:]
        return later

    def finish(self, hypothesis: Sequence[TimedWord] | None) -> tuple[TimedWord, ...]:
        """Every word of the ended turn: the committed ones, then the rest of ``hypothesis``
        (the last decode of the whole turn), or of the last tail when there is none."""
        rest = self._tail if hypothesis is None else tuple(self.new_part(hypothesis))
        return (*self._committed, *rest)

    def split(self, keep: int) -> tuple[tuple[TimedWord, ...], LocalAgreement]:
        """End the turn after word ``keep`` of the committed words and then the tail: its
        words, and the next turn's state (the committed words after the cut stay committed,
        the tail after it stays the tail)."""
        words = (*self._committed, *self._tail)
        if not 0 < keep <= len(words):
            raise ValueError("keep must select at least one word")
        following = LocalAgreement(self._committed[keep:],
                                   self._tail[max(0, keep - len(self._committed)):],
                                   overlap_ms=self._overlap_ms, max_ngram=self._max_ngram)
        return words[:keep], following


def sentence_cut(words: Sequence[TimedWord]) -> int:
    """How many of ``words`` end with the last complete sentence among them (0: none)."""
    for index in range(len(words) - 1, -1, -1):
        if ends_sentence(words[index]):
            return index + 1
    return 0


# --- words from the tokenizer's pieces -----------------------------------------------------

_CLOSING = frozenset(".,!?;:%)]}\"'")
_CURRENCY = frozenset("$£€¥")


def join_pieces(pieces: Sequence[TimedWord]) -> list[TimedWord]:
    """Words from Whisper's word pieces, spaced as its tokenizer spaced them.

    A piece that begins a word carries its leading space (" cold"); one that continues a word
    does not ("-hearted", ".5", ",000", "'t"), so it is joined to the word before, never
    spaced ("cold-hearted", not "cold -hearted"). A lone closing punctuation mark (" .")
    belongs to the word before too. The joined word spans its pieces; its confidence is the
    least sure piece's. Texts come out without the leading space.

    A lone currency sign opens the number after it (" $" " 18": "$18"; tiny.en writes the
    sign spaced, and at times more than once: " $" " $" " 9" is "$9").
    """
    words: list[TimedWord] = []
    sign: TimedWord | None = None  # a lone currency sign waiting for its number
    for piece in pieces:
        text = piece.text.strip()
        if not text:
            continue
        if text in _CURRENCY:
            if sign is not None and sign.text != text:
                words.append(sign)
            if sign is None or sign.text != text:
                sign = TimedWord(text, piece.start_ms, piece.end_ms, piece.confidence)
            continue
        if sign is not None:
            if text[:1].isdigit():
                piece = TimedWord(" " + sign.text + text, sign.start_ms, piece.end_ms,
                                  min(sign.confidence, piece.confidence))
                text = piece.text.strip()
            else:
                words.append(sign)
            sign = None
        glued = not piece.text[:1].isspace() or all(c in _CLOSING for c in text)
        if glued and words:
            last = words[-1]
            if text in ".,!?;:" and last.text.endswith(text):
                text = ""  # "today" "." ".": a mark once is enough
            words[-1] = TimedWord(last.text + text, last.start_ms, max(last.end_ms, piece.end_ms),
                                  min(last.confidence, piece.confidence))
        else:
            words.append(TimedWord(text, piece.start_ms, piece.end_ms, piece.confidence))
    if sign is not None:
        words.append(sign)
    return words


# --- what the model heard -------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentScores:
    """Whisper's own doubts about one decoded segment."""

    no_speech_prob: float  # the <|nospeech|> token's probability at the window's start
    avg_logprob: float  # mean log probability of the segment's tokens
    compression_ratio: float  # text length / its zlib length: high means repetition


@dataclass(frozen=True)
class SpeechEvidence:
    """When a segment is words made up from silence or noise rather than heard.

    Whisper's own rule skips a window with ``no_speech_prob`` > 0.6 unless ``avg_logprob`` >
    -1.0. With a prompt, the short tail of silence after the last word of a turn comes back as
    a segment of its own ("Thank you.", "for me.", " .") at ``no_speech_prob`` 0.50-0.75 and
    ``avg_logprob`` -0.9 to -1.6 (measured on tiny.en), while heard speech scored below 0.01
    and above -0.1; hence the lower bars. A compression ratio above 2.4 is a loop ("the the
    the ..."), Whisper's threshold for a failed decode.
    """

    no_speech_prob: float = 0.4
    avg_logprob: float = -0.7
    compression_ratio: float = 2.4

    def heard(self, scores: SegmentScores) -> bool:
        if scores.compression_ratio > self.compression_ratio:
            return False
        return not (scores.no_speech_prob > self.no_speech_prob
                    and scores.avg_logprob < self.avg_logprob)


# --- when to decode, when to end a turn ----------------------------------------------------


@dataclass(frozen=True)
class TurnRules:
    step_ms: int = 1000  # re-decode cadence while someone speaks
    first_decode_ms: int = 400  # speech needed before the first decode of a turn
    # Until the turn shows its first words, decode again as soon as this much more audio
    # came (a decode of 0.4 s of speech often hears nothing yet), for at most onset_ms.
    onset_step_ms: int = 250
    onset_ms: int = 2000
    pause_ms: int = 250  # silence that splits speech spans (the detector's minimum)
    end_silence_ms: int = 500  # silence that ends an utterance (and the turn)
    pad_ms: int = 200  # audio kept before and after speech
    # Continuous speech: from this far into the turn on, every cut_step_ms of it, the turn's
    # audio so far is decoded (with a final's inputs: a position on the turn's own clock,
    # so the same audio gives the same decodes however it arrived) and the turn ends after
    # the last sentence end in it that another word follows (past clause_turn_ms a clause
    # end too, or else the widest gap between two words: tiny.en often writes no full stop
    # or comma in a long stretch). Past hard_max_turn_ms with no cut, it ends there,
    # mid-speech (well within Whisper's 30 s window).
    sentence_turn_ms: int = 4_000
    cut_step_ms: int = 2_000
    clause_turn_ms: int = 10_000
    hard_max_turn_ms: int = 20_000
    lead_ms: int = 1_000  # audio before a cut that the next turn's decodes hear again
    # After a turn that ended at a pause or a sentence cut: the final speech of up to this
    # much audio before the next turn, which its decodes hear again with those words as the
    # decoder's prefix (``app/core/handover.py``: a word is heard better after the ones
    # before it). 0: none. Only when the next turn begins at most context_gap_ms after it
    # (the same stretch of speech; after a longer pause the turn is decoded on its own).
    # 1 s: with 3 s, tiny.en wrote "to supposed" for "ill-disposed" on the real-speech
    # fixture, and the six benchmark clips had 40 errors in replay against 37.
    context_ms: int = 1_000
    context_gap_ms: int = 1_000

    def __post_init__(self) -> None:
        if not 0 < self.pause_ms <= self.end_silence_ms:
            raise ValueError("pause_ms must be positive and at most end_silence_ms")
        if self.pad_ms > self.pause_ms:
            raise ValueError("pad_ms must not exceed pause_ms")
        if not 0 < self.sentence_turn_ms <= self.clause_turn_ms <= self.hard_max_turn_ms:
            raise ValueError("sentence_turn_ms <= clause_turn_ms <= hard_max_turn_ms, positive")
        if self.cut_step_ms <= 0:
            raise ValueError("cut_step_ms must be positive")
        if min(self.lead_ms, self.context_ms, self.context_gap_ms) < 0:
            raise ValueError("lead_ms, context_ms and context_gap_ms must not be negative")


@dataclass(frozen=True)
class SpeechSpan:
    """Speech found in the buffer, ms from the buffer's start. Spans are at least
    ``pause_ms`` apart; ``ended``: at least ``pause_ms`` of silence followed the span (else
    it runs to the end of the buffer)."""

    start_ms: int
    end_ms: int
    ended: bool


class Action(enum.Enum):
    WAIT = "wait"  # not enough new audio yet
    DISCARD = "discard"  # drop the audio before ``at_ms`` (silence)
    DECODE = "decode"  # re-decode the buffer (up to ``until_ms``, if set) for the partial
    FINALISE = "finalise"  # the turn ends at ``at_ms``
    # A long turn: decode the buffer up to ``at_ms`` and end the turn after the last
    # sentence end in it that another word follows (``cut_in``), if there is one.
    TRY_CUT = "try_cut"


@dataclass(frozen=True)
class Step:
    action: Action
    at_ms: int = 0
    until_ms: int = 0  # DECODE: the audio to decode (0: all of it)
    lead: bool = False  # FINALISE mid-speech: the next turn hears lead_ms before the cut again


# Silence kept at the end of a buffer with no speech in it: speech that began there but is
# not yet min_speech_ms long (the detector shows no span for it yet) keeps its pad.
_ONSET_KEEP_MS = 400


def utterance_end(rules: TurnRules, buffer_ms: int, spans: Sequence[SpeechSpan]) -> int | None:
    """Where the first utterance in the buffer ended (``end_silence_ms`` of silence after
    it), or None while it goes on."""
    for span, following in zip(spans, spans[1:], strict=False):
        if following.start_ms - span.end_ms >= rules.end_silence_ms:
            return span.end_ms
    last = spans[-1] if spans else None
    if last is not None and last.ended and buffer_ms - last.end_ms >= rules.end_silence_ms:
        return last.end_ms
    return None


def plan_step(rules: TurnRules, *, buffer_ms: int, spans: Sequence[SpeechSpan],
              turn_open: bool, decoded_ms: int | None, tried_ms: int | None = None,
              step_ms: int | None = None, partials: bool = True,
              ending: bool = False, window_ms: int = 1, onset_ms: int | None = None,
              judged_ms: int | None = None) -> Step:
    """What to do with the buffer now.

    Where a turn begins and ends depends on the detector's ``spans`` alone (and, for a pause
    in a long turn, on the decode of the audio up to it, ``TRY_CUT``), never on ``turn_open``,
    ``decoded_ms`` or the pace: those only schedule the partial decodes. So the finals are the
    same however the audio was handed over and however busy the machine was.

    ``buffer_ms``: the audio in the buffer; ``judged_ms``: how much of it the detector has
    judged (None: all of it), which is all that the turn's end may depend on.
    ``turn_open``: the turn has words on screen. ``decoded_ms``: how far the turn's last
    partial decode reached (None: none yet). ``tried_ms``: the last place of this turn
    already tried for a cut (None: none).
    ``step_ms``: the partial decodes' step the machine can afford now (None:
    ``rules.step_ms``); ``partials`` False: none at all, finals only. ``ending``: the stream
    ends here (a pause's look-ahead is what there is). ``window_ms``: the buffer can only
    be cut at multiples of it (the detector's window), and a discard is rounded down to one.
    ``onset_ms``: where sound began at the end of the buffer that may yet be speech (too short
    so far for a span): until it is known, a silence before it is not known to be the end.
    """
    judged = buffer_ms if judged_ms is None else judged_ms
    if not spans:
        silence = max(0, judged - rules.pad_ms - _ONSET_KEEP_MS)
        return Step(Action.DISCARD, silence - silence % window_ms)
    leading = spans[0].start_ms - rules.pad_ms
    leading -= leading % window_ms
    if leading > 0:
        return Step(Action.DISCARD, leading)
    structure = _turn_end(rules, judged, spans, tried_ms, ending, onset_ms)
    if structure is not None:
        return structure
    if not partials or ending:
        return Step(Action.WAIT)
    last = spans[-1]
    if last.ended and (decoded_ms is None or decoded_ms < last.end_ms + rules.pad_ms):
        # A pause: decode the turn up to it now. If it grows into the end of the utterance
        # this decode is the final one (the same audio and context), so the final Turn
        # follows the end of speech by one detector step.
        return Step(Action.DECODE, until_ms=last.end_ms + rules.pad_ms)
    speech_ms = buffer_ms - spans[0].start_ms
    if decoded_ms is None:
        due = speech_ms >= rules.first_decode_ms
    elif not turn_open and speech_ms <= rules.onset_ms:
        due = buffer_ms - decoded_ms >= rules.onset_step_ms
    else:
        step = step_ms or rules.step_ms
        # A cut is tried soon (its decode updates the partial too): no partial decode now.
        due = (buffer_ms - decoded_ms >= step
               and not 0 <= _next_try(rules, tried_ms) - judged < step // 4)
    return Step(Action.DECODE) if due else Step(Action.WAIT)


def _turn_end(rules: TurnRules, buffer_ms: int, spans: Sequence[SpeechSpan],
              tried_ms: int | None, ending: bool, onset_ms: int | None) -> Step | None:
    """The turn's end, from the speech spans and the turn's own clock alone, in the order
    of the audio: the first silence of ``end_silence_ms`` ends the utterance; from
    ``sentence_turn_ms`` on, every ``cut_step_ms`` of the turn is a place to try a cut at
    (``TRY_CUT``, once that much audio is in); past ``hard_max_turn_ms`` with no cut, the
    turn ends there, mid-speech. None: nothing to end yet.

    The silence after the last span ends the utterance only once no speech can begin in it
    any more: sound at ``onset_ms`` (shorter than a span yet) within ``end_silence_ms`` of the
    span may be the next words, and a look at the buffer a moment later would then see a
    pause, not an end."""
    end = None
    for span, following in zip(spans, spans[1:], strict=False):
        if following.start_ms - span.end_ms >= rules.end_silence_ms:
            end = span.end_ms + rules.pad_ms
            break
    else:
        last = spans[-1]
        if (last.ended and buffer_ms - last.end_ms >= rules.end_silence_ms
                and (onset_ms is None or onset_ms >= last.end_ms + rules.end_silence_ms)):
            end = min(buffer_ms, last.end_ms + rules.pad_ms)
    attempt = _next_try(rules, tried_ms)
    if end is not None and end <= attempt:
        return Step(Action.FINALISE, end)
    if attempt <= min(buffer_ms, rules.hard_max_turn_ms):
        return Step(Action.TRY_CUT, attempt)
    if end is not None:
        return Step(Action.FINALISE, end)
    if buffer_ms > rules.hard_max_turn_ms and not ending:
        return Step(Action.FINALISE, rules.hard_max_turn_ms, lead=True)
    return None


def _next_try(rules: TurnRules, tried_ms: int | None) -> int:
    """The next place (ms into the turn) to try a cut at, after ``tried_ms``."""
    tried = rules.sentence_turn_ms - rules.cut_step_ms if tried_ms is None else tried_ms
    tries = max(0, (tried - rules.sentence_turn_ms) // rules.cut_step_ms + 1)
    return rules.sentence_turn_ms + tries * rules.cut_step_ms


def cut_in(rules: TurnRules, at_ms: int, words: Sequence[TimedWord],
           start_ms: int = 0) -> int | None:
    """Where a long turn ends, ``at_ms`` into it (``TRY_CUT``): after how many of ``words``
    (a decode of the turn's audio up to ``at_ms``; the turn begins at ``start_ms`` on their
    clock), or None to go on. After the last word that ends a sentence; past
    ``clause_turn_ms`` the last that ends a clause, else the word before the widest gap
    between two words. Never after the last word (a full stop there may only mean that the
    audio ended, and the word itself may be cut off), nor after one that ended more than
    ``sentence_turn_ms`` before ``at_ms``: an end the decodes before did not write would make a
    final that comes long after its words (and leave a long turn's worth of audio to try at
    once)."""
    recent = start_ms + at_ms - rules.sentence_turn_ms
    last = len(words) - 2
    first = next((i for i, w in enumerate(words) if w.end_ms >= recent), last + 1)
    for index in range(last, first - 1, -1):
        if ends_sentence(words[index]):
            return index + 1
    if at_ms <= rules.clause_turn_ms or first > last:
        return None
    for index in range(last, first - 1, -1):
        if ends_clause(words[index]):
            return index + 1
    gaps = [(words[i + 1].start_ms - words[i].end_ms, i + 1) for i in range(first, last + 1)]
    return max(gaps)[1]


def without_made_up_tail(words: Sequence[TimedWord], *,
                         min_confidence: float = 0.05) -> list[TimedWord]:
    """A final's ``words`` without a last word the decoder itself all but ruled out
    (probability under ``min_confidence``) after a sentence end: Whisper writes one for the
    silence after the end of speech at times ("... is to be ill-disposed. Just." on the real
    speech fixture, "Just." at probability 0.01, its segment heard as speech)."""
    kept = list(words)
    while len(kept) >= 2 and kept[-1].confidence < min_confidence and ends_sentence(kept[-2]):
        kept.pop()
    return kept


# --- the messages --------------------------------------------------------------------------


def _words(words: Sequence[TimedWord], finals: int, capitalise: bool = True,
           ) -> tuple[Word, ...]:
    """Message words: the first ``finals`` final, the turn's first letter upper case (a turn
    starts a sentence; Whisper lower-cases a first word it heard with little context)."""
    out = []
    for index, word in enumerate(words):
        text = word.text[:1].upper() + word.text[1:] if index == 0 and capitalise else word.text
        out.append(Word(text=text, start=word.start_ms, end=word.end_ms,
                        confidence=round(word.confidence, 4), word_is_final=index < finals))
    return tuple(out)


def _text(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words)


def partial_turn(order: int, committed: Sequence[TimedWord],
                 tail: Sequence[TimedWord], *, capitalise: bool = True) -> Turn:
    """A turn in progress, shaped like Universal-Streaming's: ``transcript`` holds only the
    committed words, ``words`` all of them with the tail marked not final."""
    words = _words((*committed, *tail), len(committed), capitalise)
    return Turn(
        turn_order=order,
        turn_is_formatted=True,  # Whisper writes case and punctuation itself
        end_of_turn=False,
        transcript=_text(words[:len(committed)]),
        end_of_turn_confidence=0.0,
        words=words,
    )


def final_turn(order: int, words: Sequence[TimedWord], *, capitalise: bool = True,
               language: str | None = None,
               language_confidence: float | None = None) -> Turn:
    """A finished turn; ``language``: the ISO code a multilingual model heard (None: unknown,
    or an English-only model)."""
    message_words = _words(words, len(words), capitalise)
    text = _text(message_words)
    return Turn(
        turn_order=order,
        turn_is_formatted=True,
        end_of_turn=True,
        transcript=text,
        end_of_turn_confidence=1.0,
        words=message_words,
        utterance=text,
        language_code=language,
        language_confidence=language_confidence if language is not None else None,
    )
