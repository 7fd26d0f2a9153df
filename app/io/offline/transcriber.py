"""Live transcription with a batch model: the blocking core of the offline engine.

:class:`OfflineTranscriber` takes 16 kHz mono s16le audio in pieces of any size and returns the
``Turn`` messages it produced. Each call runs Silero VAD over the current buffer (the audio
since the current turn began, ~10-40 ms), then does what :func:`app.core.agreement.plan_step`
says: drop silence, end the turn at the end of speech, or re-decode the whole utterance so far
and feed the words to LocalAgreement-2. A decode's encoder hears the utterance plus 3 s (at
least 10 s; ``DecodeOptions.window_pad_s``) and costs ~0.2-0.5 s on tiny.en, so it happens at
most once per ``step_ms`` of audio; a caller that hands over more audio per call (because the
last decode took long) gets a longer step for free.

Continuous speech is cut into turns at sentence ends (``split_point``; past 10 s at a clause
end, or, when Whisper wrote neither, in the longest pause the detector hears): the turn's final
follows its sentence closely instead of waiting for a pause. The next turn keeps ``lead_ms``
of the audio before the cut, so its decodes hear the end of the sentence before as context;
the words of that lead are the ended turn's already and are left out (``after_cut``).

A turn that begins less than ``context_gap_ms`` after the turn before ended at a pause (the
speaker only drew breath) hears the last ``context_ms`` of final speech before it again, once it
shows words: that audio goes before the buffer, its final words are Whisper's ``prefix`` (the
decoder writes them and goes on), and they are dropped from the result (``after_prefix``). A
word is then heard after the words before it, as a one-shot decode of the recording hears it
(on real speech, "ill-disposed" instead of "old-sposed" at the start of such a turn).

Two passes: the partial words come from LocalAgreement-2, which commits a word once two decodes
of a growing buffer agree on it, so a word cut in half at the end of one buffer ("ill" before
"-disposed" arrived) can be committed wrongly. The final Turn therefore never keeps them: it is
the decode of the whole turn's audio, with the text of the finished turns before it as
Whisper's prompt, as a one-shot decode of the recording would read it. When the last partial
decode already covered exactly that audio (the usual case: a decode runs as soon as a pause
begins) it is that decode, so the final needs no further work.

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
    ends_sentence,
    final_turn,
    partial_turn,
    pause_cut,
    plan_step,
    split_point,
)
from app.core.handover import after_cut, as_heard_again, context_words
from app.core.messages import Turn
from app.core.pace import PACES, Pace
from app.io.offline.model import SAMPLE_RATE, Audio, DecodeOptions, WhisperRecogniser

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
        self._hypothesis: list[TimedWord] = []  # the last decode of this turn
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
        # The language the last decode heard, and the one the last partial decode heard: the
        # final Turn carries the one of the decode its words came from (None: .en model).
        self._language: tuple[str, float] | None = None
        self._hypothesis_language: tuple[str, float] | None = None
        self.pace: Pace = PACES[0]  # set by the engine between calls, from its lag

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
        spans = self._spans()
        for _ in range(_MAX_ROUNDS):
            step = plan_step(self.rules, buffer_ms=self.buffered_ms, spans=spans,
                             turn_open=self._turn_open, decoded_ms=self._decoded_ms,
                             step_ms=self.rules.step_ms * self.pace.step_factor,
                             partials=self.pace.partials)
            if step.action is Action.DISCARD and step.at_ms > 0:
                self._trim(step.at_ms * _PER_MS)
            elif step.action is Action.FINALISE:
                turns += self._finalise(step.at_ms, lead_only=self._lead_only(step.at_ms))
            elif step.action is Action.DECODE and not flush:
                return turns + self._decode_partial(spans)
            else:
                break
            spans = _shifted(spans, step.at_ms)
        if flush:
            if self._turn_open or spans:
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

    def _spans(self) -> list[SpeechSpan]:
        started = time.perf_counter()
        spans = self._recogniser.speech_spans(self._audio, min_silence_ms=self.rules.pause_ms)
        self.stats.vad_seconds += time.perf_counter() - started
        return spans

    # --- decoding ----------------------------------------------------------------------------

    def _decode(self, samples: int) -> list[TimedWord]:
        """Decode the first ``samples`` of the buffer; words on the stream's clock."""
        started = time.perf_counter()
        audio, start, prompt, prefix = self._with_context(self._audio[:samples])
        if prefix:
            decoded = self._recogniser.decode(audio, prompt, self.options, prefix=prefix)
        else:
            decoded = self._recogniser.decode(audio, prompt, self.options)
        words = decoded.words
        self._language = (None if decoded.language is None
                          else (decoded.language, decoded.language_probability or 0.0))
        elapsed = time.perf_counter() - started
        self.stats.decodes += 1
        self.stats.decode_seconds += elapsed
        self.stats.longest_decode = max(self.stats.longest_decode, elapsed)
        offset = start // _PER_MS
        return self._after_lead([TimedWord(w.text, w.start_ms + offset, w.end_ms + offset,
                                           w.confidence) for w in words])

    def _with_context(self, audio: Audio) -> tuple[Audio, int, str, tuple[str, ...]]:
        """What to decode for ``audio`` (the buffer's first samples): the audio with the
        final speech just before it when the turn began after a pause (``context_ms``), the
        stream sample it begins at, the prompt, and the words it begins with (the prefix)."""
        words = self._context_words()
        if not words:
            return audio, self._origin, self._context, ()
        start = words[0].start_ms * _PER_MS
        heard_from = self._origin - self._past.size
        audio = np.concatenate((self._past[start - heard_from:], audio))
        return (audio, start, " ".join(self._context.split()[:-len(words)]),
                tuple(w.text for w in words))

    def _context_words(self) -> list[TimedWord]:
        """The final words just before the buffer that the turn's decodes hear again (none
        after a cut: the lead is the context there, ``after_cut``; nor while the turn shows
        no word: after the prefix, a breath or a click is not judged by Whisper's no-speech
        check, as the prefix is speech)."""
        if self._lead is not None or not self._turn_open:
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

    def _decode_partial(self, spans: list[SpeechSpan]) -> list[Turn]:
        self._hypothesis = self._decode(self._audio.size)
        self._hypothesis_language = self._language
        self._decoded_until = self._origin + self._audio.size
        self._agreement.insert(self._hypothesis)
        turns = self._partial()
        words = (*self._agreement.committed, *self._agreement.tail)
        heard = as_heard_again(words, self._hypothesis)  # where its sentences end
        pause = self._pause(spans, words)
        keep = split_point(self.rules, buffer_ms=self.buffered_ms, words=heard,
                           committed=len(self._agreement.committed),
                           pause=None if pause is None else pause[0])
        if keep is not None:
            turns += self._split(keep, pause[1] if pause is not None and keep == pause[0]
                                 else None)
        return turns

    def _pause(self, spans: list[SpeechSpan], words: tuple[TimedWord, ...],
               ) -> tuple[int, int] | None:
        """Past ``clause_turn_ms``: the words before the longest pause in the buffer's speech
        and the cut in it (stream ms), for a turn with no sentence or clause end to cut at."""
        if self.buffered_ms <= self.rules.clause_turn_ms or len(words) < 2:
            return None
        if self.rules.cut_pause_ms < self.rules.pause_ms:  # the spans split at pause_ms only
            started = time.perf_counter()
            spans = self._recogniser.speech_spans(self._audio,
                                                  min_silence_ms=self.rules.cut_pause_ms)
            self.stats.vad_seconds += time.perf_counter() - started
        offset = self._origin // _PER_MS
        return pause_cut(self.rules, words=words,
                         spans=[SpeechSpan(s.start_ms + offset, s.end_ms + offset, s.ended)
                                for s in spans],
                         after_ms=self._lead[0] if self._lead is not None else 0)

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

    def _finalise(self, at_ms: int, *, lead_only: bool = False) -> list[Turn]:
        """End the turn with the audio before ``at_ms`` (buffer time) and drop that audio.
        ``lead_only``: that audio is the lead alone, and the turn has no words of its own."""
        cut = min(at_ms * _PER_MS, self._audio.size)
        end_ms = (self._origin + cut) // _PER_MS
        # Whisper may write a word for the end of a lead word it hears without its start
        # ("Just." for the "-sposed" of "ill-disposed."): a turn of its own, made up.
        words = [] if lead_only else self._second_pass(cut)
        # Committed words the detector now places after the end (it re-reads the whole buffer
        # each time) stay on screen: they open the next turn, whose final decodes them again.
        carried = [w for w in self._agreement.committed if w.start_ms >= end_ms]
        return self._end_turn(words, cut, LocalAgreement(carried))

    def _split(self, keep: int, cut_ms: int | None = None) -> list[Turn]:
        """The turn grew too long: end it after ``keep`` of its words (0: all of the last
        hypothesis) and carry the rest into the next turn, which hears ``lead_ms`` of the
        audio before the cut again. ``cut_ms``: where (stream ms; None: between the words)."""
        if keep == 0:
            return self._finalise(self.buffered_ms)
        ended, following = self._agreement.split(keep)
        nxt = (*following.committed, *following.tail)
        if cut_ms is None:
            # Cut in the gap after the last word kept, so no audio of the next word is lost.
            cut_ms = ended[-1].end_ms if not nxt else (ended[-1].end_ms + nxt[0].start_ms) // 2
        cut = min(max(0, cut_ms * _PER_MS - self._origin), self._audio.size)
        # The decode that found the sentence end heard the whole turn and more after it: its
        # words before the cut are the final, as a one-shot decode would have them (no second
        # pass, so a sentence's final costs no decode of its own).
        heard = [w for w in self._hypothesis if (w.start_ms + w.end_ms) // 2 < cut_ms]
        if heard and self._decoded_until is not None and self._decoded_until > cut_ms * _PER_MS:
            self._language = self._hypothesis_language
            words = heard
        else:
            words = self._second_pass(cut)
        return self._end_turn(words, cut, following, lead=True) + self._partial()

    def _second_pass(self, cut: int) -> list[TimedWord]:
        """The final words of the audio before ``cut`` (buffer samples): one decode of all of
        it with the finished text as the prompt, unless the last decode was exactly that."""
        end_ms = (self._origin + cut) // _PER_MS
        covered = self._decoded_until is not None and self._decoded_until >= self._origin + cut
        if covered and not any(w.start_ms >= end_ms for w in self._hypothesis):
            # Beyond the cut that decode heard only silence: decoding again would repeat it.
            self._language = self._hypothesis_language
            return list(self._hypothesis)
        if cut == 0:
            return []
        self.stats.final_decodes += 1
        words = [w for w in self._decode(cut) if w.start_ms < end_ms]
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
        rest = self._audio[heard_until:cut]
        spans = self._recogniser.speech_spans(rest, min_silence_ms=self.rules.pause_ms)
        if sum(span.end_ms - span.start_ms for span in spans) < _REST_MS // 2:
            return []
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
        self._hypothesis = []  # decoded from the old turn's start with the old prompt
        self._decoded_until = None
        keep = min(cut, self.rules.lead_ms * _PER_MS) if lead and words else 0
        self._lead = ((self._origin + cut) // _PER_MS, tuple(words)) if keep else None
        self._sentence_start = not (lead and words and not ends_sentence(words[-1]))
        self._trim(cut - keep)
        return turns

    def _trim(self, samples: int) -> None:
        """Drop the first ``samples`` of the buffer."""
        samples = min(samples, self._audio.size)
        if samples > 0:
            if self.rules.context_ms:
                kept = self.rules.context_ms * _PER_MS
                self._past = np.concatenate((self._past[-kept:], self._audio[:samples]))[-kept:]
            self._audio = self._audio[samples:]
            self._origin += samples

    def _append(self, pcm: bytes) -> None:
        data = self._odd + pcm
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        if whole:
            samples = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32) / 32768.0
            self._audio = np.concatenate((self._audio, samples))


def _shifted(spans: list[SpeechSpan], ms: int) -> list[SpeechSpan]:
    """``spans`` seen from ``ms`` later in the buffer (after dropping its first ``ms``)."""
    return [SpeechSpan(max(0, s.start_ms - ms), s.end_ms - ms, s.ended)
            for s in spans if s.end_ms > ms]
