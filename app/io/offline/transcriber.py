"""Live transcription with a batch model: the blocking core of the offline engine.

:class:`OfflineTranscriber` takes 16 kHz mono s16le audio in pieces of any size and returns the
``Turn`` messages it produced. The voice-activity detector (Silero) judges each 32 ms window of
the stream once, as it arrives, with its state carried over from the stream's start
(``VadStream``): the speech it finds does not depend on how the audio was handed over, nor on
where the buffer began (run again over the buffer from its start, as it used to be, it gave the
same window probabilities up to 0.27 apart). Then the transcriber does what
:func:`app.core.agreement.plan_step` says: drop silence, end the turn at the end of speech, try
a long turn for a cut, or re-decode the utterance so far and feed the words to LocalAgreement-2.
A decode's encoder hears the utterance plus 3 s (at least 10 s; ``DecodeOptions.window_pad_s``)
and costs ~0.2-0.5 s on tiny.en, so it happens at most once per ``step_ms`` of audio; a caller
that hands over more audio per call (because the last decode took long) gets a longer step for
free.

The finals are a function of the audio alone: every decision that shapes them (the turn's
audio span, its cuts, the context its final decode hears) comes from the detector, from decodes
of the turn's audio at places on its own clock, and from the finals before it, never from the
partial decodes, whose schedule follows the machine's load. The buffer always begins on the
detector's 32 ms grid, so the same audio is cut at the same samples.

Continuous speech is cut into turns at sentence ends: from ``sentence_turn_ms`` into the turn
on, every ``cut_step_ms``, the turn's audio so far is decoded (the partial of that moment, too)
and the turn ends after the last sentence end another word follows in it (``cut_in``; past 10 s
a clause end, or the widest gap between two words): the turn's final follows its sentence
closely instead of waiting for a pause, and it is that decode's words, which heard on past the
sentence end as a one-shot decode does.

A turn that begins less than ``context_gap_ms`` after the turn before ended (a cut, or a pause
in which the speaker only drew breath) hears the last ``context_ms`` of final speech before it
again, when it has speech of its own (``first_decode_ms``; for its partial decodes, once it
shows words): that audio goes before the buffer, its final words are Whisper's ``prefix`` (the
decoder writes them and goes on), and they are dropped from the result (``after_prefix``). A
word is then heard after the words before it, as a one-shot decode of the recording hears it
(on real speech, "ill-disposed" instead of "old-sposed" at the start of such a turn).

Two passes: the partial words come from LocalAgreement-2, which commits a word once two decodes
of a growing buffer agree on it, so a word cut in half at the end of one buffer ("ill" before
"-disposed" arrived) can be committed wrongly. The final Turn therefore never keeps them: it is
the decode of the whole turn's audio, with the text of the finished turns before it as
Whisper's prompt, as a one-shot decode of the recording would read it. A decode with exactly
the final's inputs (the same audio and context) is done once per turn: the decode at a pause
usually is the final's already, so the final needs no further work.

Blocking and not thread-safe: one thread at a time calls it (the offline engine's decoder
thread, or the test emulator's worker). Shared by both, so the emulator's ``--recognizer
offline`` runs exactly the app's streaming logic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from app.core.agreement import (
    Action,
    LocalAgreement,
    SpeechSpan,
    TimedWord,
    TurnRules,
    cut_in,
    ends_sentence,
    final_turn,
    partial_turn,
    plan_step,
    without_made_up_tail,
)
from app.core.handover import after_cut, context_words
from app.core.messages import Turn
from app.core.pace import PACES, Pace
from app.core.voice import WINDOW_MS, WINDOW_SAMPLES, speech_spans
from app.io.offline.model import (
    SAMPLE_RATE,
    Audio,
    DecodeOptions,
    VadStream,
    WhisperRecogniser,
)

_PER_MS = SAMPLE_RATE // 1000
_MAX_ROUNDS = 32  # plan/act rounds per call; each one shortens the buffer or stops
# Finished text given to Whisper as the prompt: enough for names, spelling and style, short
# enough to cost little (faster-whisper would keep up to 223 tokens).
_PROMPT_CHARS = 300
# Speech the final decode left out after its last word that is worth a decode of its own.
_REST_MS = 2000
_FINISHED_WORDS = 64  # final words kept for the context of the next turn's decodes
# Speech that ends this close after a cut is the lead's (the detector's end, give or take).
_LEAD_ONLY_SLACK_MS = 150
_MIN_SPEECH_MS = 120  # the detector's shortest span (speech_spans' default)


@dataclass
class TranscriberStats:
    decodes: int = 0
    final_decodes: int = 0  # second passes (a final that could not reuse the last decode)
    decode_seconds: float = 0.0
    longest_decode: float = 0.0
    vad_seconds: float = 0.0


class OfflineTranscriber:
    """Audio in, partial and final ``Turn`` messages out, for one session."""

    def __init__(self, recogniser: WhisperRecogniser, rules: TurnRules | None = None,
                 options: DecodeOptions | None = None) -> None:
        self.rules = rules or TurnRules()
        # The session's language (None: detect per decode) and task; the model's when None.
        self.options = options
        self.stats = TranscriberStats()
        self._recogniser = recogniser
        self._audio: Audio = np.zeros(0, dtype=np.float32)
        self._origin = 0  # stream sample index of the buffer's first sample
        self._odd = b""  # half a sample left over from the last call
        self._order = 0
        self._agreement = LocalAgreement()
        self._shown: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._decoded_until: int | None = None  # stream sample where that decode ended
        self._context = ""  # the finished turns' text, the prompt of the next decodes
        # The last final words (stream clock) and the audio before the buffer that they may
        # lie in: the context a turn after a pause hears again (TurnRules.context_ms).
        self._finished: list[TimedWord] = []
        self._past: Audio = np.zeros(0, dtype=np.float32)
        # After a turn was cut mid-speech: where (stream ms) and its final words. The buffer
        # then begins lead_ms before the cut, and the words heard there are not this turn's.
        self._lead: tuple[int, tuple[TimedWord, ...]] | None = None
        # A turn begins a sentence (its first word upper case) unless the turn before was
        # cut mid-sentence, at a clause end.
        self._sentence_start = True
        # The language the last decode heard: the final Turn carries the one of the decode its
        # words came from (None: .en model).
        self._language: tuple[str, float] | None = None
        self.pace: Pace = PACES[0]  # set by the engine between calls, from its lag
        # The detector, run once per 32 ms window of the stream; the probabilities of the
        # buffer's windows (the buffer always begins on a window of the stream's grid).
        self._vad = VadStream()
        self._probabilities = np.zeros(0, dtype=np.float32)
        # The last pause of this turn tried as its end (stream ms; TRY_CUT), if any.
        self._tried: int | None = None
        # Decodes of this turn with a final's inputs (audio span, prompt, prefix) and what they
        # heard: a final whose inputs are the same is that decode, not a second one.
        self._finals: dict[tuple[int, int, str, tuple[str, ...]],
                           tuple[list[TimedWord], tuple[str, float] | None]] = {}

    @property
    def received_ms(self) -> int:
        return (self._origin + self._audio.size) // _PER_MS

    @property
    def buffered_ms(self) -> int:
        return self._audio.size // _PER_MS

    def push(self, pcm: bytes) -> list[Turn]:
        """Take more audio; returns the turns it completed or updated."""
        self._append(pcm)
        return self._advance(flush=False)

    def end_turn(self) -> list[Turn]:
        """End the current turn now (a forced endpoint); audio keeps coming afterwards."""
        return self._advance(flush=True)

    def finish(self, pcm: bytes = b"") -> list[Turn]:
        """The last audio: decode what is left and end the turn."""
        self._append(pcm)
        return self._advance(flush=True)

    # --- the loop ----------------------------------------------------------------------------

    def _advance(self, *, flush: bool) -> list[Turn]:
        turns: list[Turn] = []
        for _ in range(_MAX_ROUNDS):
            spans = self._spans()
            tried = None if self._tried is None else self._tried - self._origin // _PER_MS
            step = plan_step(self.rules, buffer_ms=self.buffered_ms, judged_ms=self._judged_ms,
                             spans=spans,
                             turn_open=self._turn_open, decoded_ms=self._decoded_ms,
                             tried_ms=tried, step_ms=self.rules.step_ms * self.pace.step_factor,
                             partials=self.pace.partials, ending=flush, window_ms=WINDOW_MS,
                             onset_ms=self._onset_ms())
            if step.action is Action.DISCARD:
                if self._turn_open:  # no speech left under the words shown: clear them
                    turns += self._end_turn([], 0, LocalAgreement())
                if step.at_ms <= 0:
                    break
                self._trim(step.at_ms * _PER_MS)
            elif step.action is Action.FINALISE:
                turns += self._finalise(step.at_ms, lead=step.lead,
                                        lead_only=self._lead_only(step.at_ms))
            elif step.action is Action.TRY_CUT:
                turns += self._try_cut(step.at_ms)
            elif step.action is Action.DECODE and not flush:
                return turns + self._decode_partial(step.until_ms)
            else:
                break
        if flush:
            if self._turn_open or self._spans():
                turns += self._finalise(self.buffered_ms)
            self._trim(self._audio.size)
        return turns

    @property
    def _turn_open(self) -> bool:
        return self._shown is not None or bool(self._agreement.committed)

    @property
    def _decoded_ms(self) -> int | None:
        if self._decoded_until is None:
            return None
        return max(0, self._decoded_until - self._origin) // _PER_MS

    @property
    def _judged_ms(self) -> int:
        """The buffer's audio the detector has judged (whole windows)."""
        return self._probabilities.size * WINDOW_MS

    def _spans(self, min_silence_ms: int | None = None) -> list[SpeechSpan]:
        """Speech in the buffer (ms from its start), from the stream's detector."""
        return speech_spans(self._probabilities.tolist(),
                            min_silence_ms=min_silence_ms or self.rules.pause_ms)

    def _onset_ms(self) -> int | None:
        """Where sound began at the end of the buffer that is too short yet for a span (it
        may be the next words, or a click the detector will drop): None if there is none."""
        heard = speech_spans(self._probabilities.tolist(), min_silence_ms=self.rules.pause_ms,
                             min_speech_ms=0)
        last = heard[-1] if heard else None
        if last is not None and not last.ended and last.end_ms - last.start_ms <= _MIN_SPEECH_MS:
            return last.start_ms
        return None

    # --- decoding ----------------------------------------------------------------------------

    def _decode(self, samples: int, *, final: bool = False) -> list[TimedWord]:
        """Decode the first ``samples`` of the buffer; words on the stream's clock.

        ``final``: with a final's inputs, which depend on the audio and the finals before it
        only (the context is heard again when the turn has enough speech of its own, not
        when its partial decodes happened to show words); such a decode of the same audio
        with the same context is done once per turn (``_finals``)."""
        audio, start, prompt, prefix = self._with_context(self._audio[:samples], samples, final)
        key = (self._origin, samples, prompt, prefix)
        if final and key in self._finals:
            words, self._language = self._finals[key]
            return list(words)
        started = time.perf_counter()
        if prefix:
            decoded = self._recogniser.decode(audio, prompt, self.options, prefix=prefix)
        else:
            decoded = self._recogniser.decode(audio, prompt, self.options)
        self._language = (None if decoded.language is None
                          else (decoded.language, decoded.language_probability or 0.0))
        elapsed = time.perf_counter() - started
        self.stats.decodes += 1
        self.stats.decode_seconds += elapsed
        self.stats.longest_decode = max(self.stats.longest_decode, elapsed)
        offset = start // _PER_MS
        words = self._after_lead([TimedWord(w.text, w.start_ms + offset, w.end_ms + offset,
                                            w.confidence) for w in decoded.words])
        if final:
            self._finals[key] = (words, self._language)
        return list(words)

    def _with_context(self, audio: Audio, samples: int, final: bool,
                      ) -> tuple[Audio, int, str, tuple[str, ...]]:
        """What to decode for ``audio`` (the buffer's first ``samples``): the audio with the
        final speech just before it when the turn began after a pause (``context_ms``), the
        stream sample it begins at, the prompt, and the words it begins with (the prefix)."""
        words = self._context_words(samples, final)
        if not words:
            return audio, self._origin, self._context, ()
        start = words[0].start_ms * _PER_MS
        heard_from = self._origin - self._past.size
        audio = np.concatenate((self._past[start - heard_from:], audio))
        return (audio, start, " ".join(self._context.split()[:-len(words)]),
                tuple(w.text for w in words))

    def _context_words(self, samples: int, final: bool) -> list[TimedWord]:
        """The final words just before the buffer that a decode of its first ``samples``
        hears again (none after a cut: the lead is the context there, ``after_cut``; nor for
        a turn with too little speech of its own: after the prefix, a breath or a click is
        not judged by Whisper's no-speech check, as the prefix is speech). A final's decode
        judges that by the detector (``first_decode_ms`` of speech in the audio); a partial
        one by whether the turn shows words yet."""
        if self._lead is not None:
            return []
        if final:
            limit = samples // _PER_MS
            speech = sum(max(0, min(s.end_ms, limit) - s.start_ms) for s in self._spans())
            if speech < self.rules.first_decode_ms:
                return []
        elif not self._turn_open:
            return []
        heard_from = self._origin - self._past.size
        words = [w for w in context_words(self._finished, self._origin // _PER_MS,
                                          self.rules.context_ms, self.rules.context_gap_ms)
                 if w.start_ms * _PER_MS >= heard_from]
        texts = self._context.split()
        if not words or texts[-len(words):] != [w.text for w in words]:
            return []  # the prompt does not end with them: decode as before
        return words

    def _after_lead(self, words: list[TimedWord]) -> list[TimedWord]:
        """``words`` (stream clock) without those of the lead, which the turn before has."""
        if self._lead is None:
            return words
        cut_ms, ended = self._lead
        return after_cut(words, cut_ms, ended, lead_start_ms=self._origin // _PER_MS)

    def _decode_partial(self, until_ms: int = 0) -> list[Turn]:
        """A partial decode of the buffer (up to ``until_ms`` at a pause: with a final's
        inputs, so that if the pause ends the utterance this decode is its final)."""
        samples = min(until_ms * _PER_MS, self._audio.size) if until_ms else self._audio.size
        hypothesis = self._decode(samples, final=bool(until_ms))
        self._decoded_until = self._origin + samples
        self._agreement.insert(hypothesis)
        return self._partial()

    def _partial(self) -> list[Turn]:
        committed, tail = self._agreement.committed, self._agreement.tail
        shown = (tuple(w.text for w in committed), tuple(w.text for w in tail))
        if shown == self._shown or not (committed or tail):
            return []
        self._shown = shown
        return [partial_turn(self._order, committed, tail,
                             capitalise=self._sentence_start)]

    # --- ending turns ------------------------------------------------------------------------

    def _lead_only(self, at_ms: int) -> bool:
        """Whether the utterance that ends the turn at ``at_ms`` (buffer time: the end of its
        speech plus ``pad_ms``) is only the lead: the speaker paused right after the cut, and
        the speech in the buffer is the ended turn's, heard again."""
        if self._lead is None or at_ms >= self.buffered_ms:
            return False
        speech_end_ms = self._origin // _PER_MS + at_ms - self.rules.pad_ms
        return speech_end_ms <= self._lead[0] + _LEAD_ONLY_SLACK_MS

    def _try_cut(self, at_ms: int) -> list[Turn]:
        """``at_ms`` into a long turn: decode the turn up to there with a final's inputs, and
        end it after the last sentence end that decode heard another word after (``cut_in``);
        the words before the cut are its final, as a decode that heard on past them (as a
        one-shot decode does) has them. The next turn begins at the end of the last of them,
        and its decodes hear them again as their prefix (``context_ms``)."""
        self._tried = self._origin // _PER_MS + at_ms
        self.stats.final_decodes += 1
        samples = min(at_ms * _PER_MS, self._audio.size)
        heard = self._decode(samples, final=True)
        keep = cut_in(self.rules, at_ms, heard, start_ms=self._origin // _PER_MS)
        if keep is not None:
            words = heard[:keep]
            # On the detector's grid, not before the last word's end (the next turn's origin
            # must be past it for the context to be heard again).
            cut = words[-1].end_ms * _PER_MS - self._origin
            cut = min(-(-cut // WINDOW_SAMPLES) * WINDOW_SAMPLES, self._audio.size)
            # The words shown after the cut stay on screen, in the next turn.
            turns = self._finalise(cut // _PER_MS, words=words)
            return turns + self._partial() if self.pace.partials else turns
        # The turn goes on: that decode is its newest partial too (when partials are shown).
        self._decoded_until = self._origin + samples
        self._agreement.insert(heard)
        return self._partial() if self.pace.partials else []

    def _finalise(self, at_ms: int, *, lead: bool = False, lead_only: bool = False,
                  words: list[TimedWord] | None = None) -> list[Turn]:
        """End the turn with the audio before ``at_ms`` (buffer time) and drop that audio.
        ``lead``: the cut is mid-speech, the next turn hears ``lead_ms`` before it again.
        ``lead_only``: that audio is the lead alone, and the turn has no words of its own.
        ``words``: its final words, when a decode has them already."""
        cut = min(at_ms * _PER_MS, self._audio.size)
        end_ms = (self._origin + cut) // _PER_MS
        # Whisper may write a word for the end of a lead word it hears without its start
        # ("Just." for the "-sposed" of "ill-disposed."): a turn of its own, made up.
        if words is None:
            words = [] if lead_only else self._second_pass(cut)
        # Committed words the detector now places after the end stay on screen: they open the
        # next turn, whose final decodes them again.
        carried = [w for w in self._agreement.committed if w.start_ms >= end_ms]
        return self._end_turn(words, cut, LocalAgreement(carried), lead=lead)

    def _second_pass(self, cut: int) -> list[TimedWord]:
        """The final words of the audio before ``cut`` (buffer samples): one decode of all of
        it with the finished text as the prompt (the decode at the pause, when it had exactly
        those inputs)."""
        if cut == 0 or not self._spans():
            return []
        key_before = len(self._finals)
        words = [w for w in self._decode(cut, final=True)
                 if w.start_ms < (self._origin + cut) // _PER_MS]
        words = without_made_up_tail(words)
        if len(self._finals) > key_before:
            self.stats.final_decodes += 1
        return words + self._rest_of(words, cut)

    def _rest_of(self, words: list[TimedWord], cut: int) -> list[TimedWord]:
        """Whisper may stop early on a long turn (it ends a 30 s window after a segment it
        thinks is the last, and the speech after it is skipped): decode what the detector
        hears as speech after the last word once more, on its own, so no sentence is lost."""
        heard_until = max(0, words[-1].end_ms * _PER_MS - self._origin) if words else 0
        if self._lead is not None:  # the lead was heard: by the turn before
            heard_until = max(heard_until, self._lead[0] * _PER_MS - self._origin)
        if cut - heard_until < _REST_MS * _PER_MS:
            return []
        after_ms, until_ms = heard_until // _PER_MS, cut // _PER_MS
        speech = sum(max(0, min(s.end_ms, until_ms) - max(s.start_ms, after_ms))
                     for s in self._spans())
        if speech < _REST_MS // 2:
            return []
        rest = self._audio[heard_until:cut]
        self.stats.final_decodes += 1
        prompt = (self._context + " " + " ".join(w.text for w in words)).strip()
        offset = (self._origin + heard_until) // _PER_MS
        return self._after_lead([
            TimedWord(w.text, w.start_ms + offset, w.end_ms + offset, w.confidence)
            for w in self._recogniser.transcribe(rest, prompt=prompt[-_PROMPT_CHARS:],
                                                 options=self.options)])

    def _end_turn(self, words: list[TimedWord], cut: int, following: LocalAgreement, *,
                  lead: bool = False) -> list[Turn]:
        """Send the final Turn (also an empty one, to clear words shown) and drop the audio
        before ``cut``; ``following`` holds the words already shown for the next turn.
        ``lead``: speech goes on after the cut; keep ``lead_ms`` before it as context."""
        language, confidence = self._language if words and self._language else (None, None)
        turns = ([final_turn(self._order, words, capitalise=self._sentence_start,
                             language=language,
                             language_confidence=confidence)]
                 if words or self._shown else [])
        if turns:
            self._order += 1
            self._context = (self._context + " " + turns[0].transcript).strip()[-_PROMPT_CHARS:]
            self._finished = [*self._finished, *(TimedWord(w.text, w.start, w.end)
                                                 for w in turns[0].words)][-_FINISHED_WORDS:]
        self._agreement = following
        self._shown = None
        self._decoded_until = None
        self._tried = None
        self._finals = {}
        keep = min(cut, self.rules.lead_ms * _PER_MS) if lead and words else 0
        self._lead = ((self._origin + cut) // _PER_MS, tuple(words)) if keep else None
        self._sentence_start = not (lead and words and not ends_sentence(words[-1]))
        self._trim(cut - keep)
        return turns

    def _trim(self, samples: int) -> None:
        """Drop the first ``samples`` of the buffer, rounded down to the detector's window so
        that the buffer always begins on the stream's window grid."""
        samples = min(samples, self._audio.size)
        samples -= samples % WINDOW_SAMPLES
        if samples > 0:
            if self.rules.context_ms:
                kept = self.rules.context_ms * _PER_MS
                self._past = np.concatenate((self._past[-kept:], self._audio[:samples]))[-kept:]
            self._audio = self._audio[samples:]
            self._origin += samples
            self._probabilities = self._probabilities[samples // WINDOW_SAMPLES:]

    def _append(self, pcm: bytes) -> None:
        data = self._odd + pcm
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        if whole:
            samples = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32) / 32768.0
            self._audio = np.concatenate((self._audio, samples))
        judged = self._probabilities.size * WINDOW_SAMPLES
        windows = (self._audio.size - judged) // WINDOW_SAMPLES
        if windows > 0:
            started = time.perf_counter()
            new = self._vad.judge(self._audio[judged:judged + windows * WINDOW_SAMPLES])
            self.stats.vad_seconds += time.perf_counter() - started
            self._probabilities = np.concatenate((self._probabilities, new))
