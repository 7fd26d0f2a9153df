"""A long turn with no punctuation to cut at ends in a pause between its words, not at 20 s.

tiny.en often writes no full stop or comma in a long stretch of speech; the recogniser here is
the real bundled model with the punctuation of its words taken away, so only the pauses the
voice-activity detector hears are left to cut at. Real speech (the flite fixtures), real VAD,
real decodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from app.core.agreement import SpeechSpan, TimedWord, TurnRules, normalise
from app.core.messages import Turn
from app.io.offline.model import Decoded, DecodeOptions, WhisperRecogniser
from app.io.offline.transcriber import OfflineTranscriber
from tests.support.speech import load_fixture, word_error_rate

PAUSE_MS = 100  # the detector hears ~300 ms: a pause, not the end of speech (500 ms)


class Unpunctuated(WhisperRecogniser):
    """The real model, its words without punctuation (as tiny.en writes long speech)."""

    def __init__(self, real: WhisperRecogniser) -> None:
        super().__init__(real.spec, real.folder, model=None)
        self._real = real

    def speech_spans(self, audio: np.ndarray, *, min_silence_ms: int,
                     min_speech_ms: int = 120) -> list[SpeechSpan]:
        return self._real.speech_spans(audio, min_silence_ms=min_silence_ms,
                                       min_speech_ms=min_speech_ms)

    def decode(self, audio: np.ndarray, prompt: str = "",
               options: DecodeOptions | None = None, prefix: Sequence[str] = ()) -> Decoded:
        decoded = self._real.decode(audio, prompt, options, prefix)
        words = [TimedWord(w.text.rstrip(".,;:?!"), w.start_ms, w.end_ms, w.confidence)
                 for w in decoded.words]
        return Decoded([w for w in words if w.text], decoded.language,
                       decoded.language_probability)


def speech_only(recogniser: WhisperRecogniser, pcm: bytes) -> bytes:
    """The fixture from its first speech to its last (its own silences cut off)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    spans = recogniser.speech_spans(samples, min_silence_ms=250)
    return pcm[spans[0].start_ms * 32:spans[-1].end_ms * 32]


@pytest.fixture(scope="module")
def long_turn(recogniser: WhisperRecogniser) -> tuple[bytes, str]:
    names = ("boat", "library", "weather")
    pause = bytes(PAUSE_MS * 32)
    pcm = pause.join(speech_only(recogniser, load_fixture(n).pcm) for n in names)
    return bytes(300 * 32) + pcm + bytes(1500 * 32), " ".join(
        load_fixture(n).reference for n in names)


def stream(transcriber: OfflineTranscriber, pcm: bytes) -> list[Turn]:
    turns: list[Turn] = []
    for offset in range(0, len(pcm), 32_000):  # a second at a time, a decode per second
        turns += transcriber.push(pcm[offset:offset + 32_000])
    return turns + transcriber.finish()


def test_an_unpunctuated_long_turn_is_cut_in_a_pause_and_no_word_is_lost_or_doubled(
        recogniser: WhisperRecogniser, long_turn: tuple[bytes, str]) -> None:
    pcm, reference = long_turn
    assert len(pcm) // 32 < TurnRules().hard_max_turn_ms  # the 20 s rule never fires
    transcriber = OfflineTranscriber(Unpunctuated(recogniser))
    turns = stream(transcriber, pcm)
    finals = [t for t in turns if t.end_of_turn]
    assert len(finals) >= 2  # cut before the end of speech
    # Each cut is in a pause between two sentences (the widest gap between two words once
    # the turn passed clause_turn_ms), never between two words of a sentence.
    assert all(normalise(t.words[-1].text) in ("shore", "evening", "west") for t in finals)
    joined = " ".join(t.transcript for t in finals)
    assert word_error_rate([reference], [joined]) <= 0.1
    said = [normalise(w) for w in reference.split()]
    heard = [normalise(w) for w in joined.split()]
    assert len(heard) == len(said)  # nothing lost, nothing twice
    # Words after the cut come after the ended turn's, none of them again.
    for before, after in zip(finals, finals[1:], strict=False):
        assert after.words[0].start >= before.words[-1].end


def test_without_punctuation_the_turn_goes_on_until_clause_turn_ms(
        recogniser: WhisperRecogniser, long_turn: tuple[bytes, str]) -> None:
    # No sentence end to cut at: with clause_turn_ms past the whole turn, no cut at all.
    pcm, _ = long_turn
    transcriber = OfflineTranscriber(Unpunctuated(recogniser),
                                     TurnRules(clause_turn_ms=20_000))
    finals = [t for t in stream(transcriber, pcm) if t.end_of_turn]
    assert len(finals) == 1
