"""Coded speech: a recogniser that reads the words from the audio itself.

The scripted recogniser reveals its script by audio time from each session's start, so after a
reconnect that replays audio it would say the script's first words again.  This one decodes
the words that are really in the audio a session receives, so a test can count words lost or
doubled across reconnects and replays.

The code (`tests/support/coded_speech.py` generates it): word number *n* (0…`MAX_WORD`) is a
sine burst of `WORD_MS` at `word_frequency(n)` = `BASE_HZ` + *n*·`STEP_HZ`; words are separated
by `WORD_GAP_MS` of silence, sentences by `SENTENCE_GAP_MS`.  Its text is `word_text(n)`
("n017"), so every word of a test can be unique.

Recognition, per 10 ms block of the session's own audio: a block is voiced when its RMS is
above `VOICED_RMS`; a voiced run is a word candidate.  When the run ends, its frequency is
read from one FFT over the whole run (window, zero-padding, parabolic peak) and rounded to the
nearest word.  A run shorter than `MIN_WORD_FRACTION` of `WORD_MS` is dropped: a word cut by a
session start or end is then either recognised whole (frequency does not depend on length) or
not at all, never as a different word.  A run longer than `MAX_WORD_FRACTION` is audio spliced
without its gap (sent twice, or cut mid-word inside one session): dropped too, so that a test
counts a lost word instead of silently merging two.  A silence of `END_OF_TURN_SILENCE_MS`
after a word ends the turn.  Word times are ms of the session's own audio, as the service
reports them.
"""

from __future__ import annotations

import numpy as np

from .recognizers import EmuWord, TurnUpdate, finalised

BASE_HZ = 400.0
STEP_HZ = 20.0
MAX_WORD = 299  # highest frequency 6380 Hz: below the anti-alias roll-off of any 16 kHz path
WORD_MS = 350
WORD_GAP_MS = 250
SENTENCE_GAP_MS = 1000
END_OF_TURN_SILENCE_MS = 650  # between a word gap (< 500) and a sentence gap (>= 800)
MIN_WORD_FRACTION = 0.6
MAX_WORD_FRACTION = 1.4  # longer runs are two bursts spliced together, not a word
VOICED_RMS = 1500.0  # int16 units; the generator's tones have an RMS of about 9300
BLOCK_MS = 10
_MAX_OFFSET = 0.3  # a peak further than this many steps from every word is not a word


def word_frequency(number: int) -> float:
    if not 0 <= number <= MAX_WORD:
        raise ValueError(f"coded word numbers are 0..{MAX_WORD}, not {number}")
    return BASE_HZ + number * STEP_HZ


def word_text(number: int) -> str:
    return f"n{number:03d}"


def peak_frequency(samples: np.ndarray, sample_rate: int) -> float:
    """The strongest frequency of `samples` (float), to a fraction of an FFT bin."""
    size = 1 << max(12, int(len(samples) * 4 - 1).bit_length())  # zero-pad: finer bins
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), size))
    peak = int(np.argmax(spectrum[1:-1])) + 1
    left, centre, right = spectrum[peak - 1], spectrum[peak], spectrum[peak + 1]
    denominator = left - 2 * centre + right
    shift = 0.5 * (left - right) / denominator if denominator else 0.0
    return float((peak + shift) * sample_rate / size)


def decode_word(samples: np.ndarray, sample_rate: int) -> int | None:
    """The word number of one tone burst, or None when it is no word of the code."""
    frequency = peak_frequency(samples, sample_rate)
    steps = (frequency - BASE_HZ) / STEP_HZ
    number = round(steps)
    if not 0 <= number <= MAX_WORD or abs(steps - number) > _MAX_OFFSET:
        return None
    return number


class CodedRecognizer:
    """Decodes coded speech (pcm_s16le, mono) into Universal-Streaming style turn updates."""

    def __init__(self, sample_rate: int = 16000) -> None:
        self._rate = sample_rate
        self._block = sample_rate * BLOCK_MS // 1000
        self._pending = b""  # bytes short of a whole block
        self._position = 0  # samples of the session's audio consumed into blocks
        self._run: list[np.ndarray] = []  # the voiced run in progress
        self._run_start = 0
        self._silence_since: int | None = None  # sample where the silence after a word began
        self._words: list[EmuWord] = []  # the open turn

    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        data = self._pending + pcm
        whole = len(data) // (2 * self._block) * 2 * self._block
        self._pending = data[whole:]
        samples = np.frombuffer(data[:whole], dtype="<i2").astype(np.float64)
        updates: list[TurnUpdate] = []
        for block in samples.reshape(-1, self._block):
            updates += self._block_in(block)
        return updates

    def force_endpoint(self) -> list[TurnUpdate]:
        return self._end_turn()

    def finish(self) -> list[TurnUpdate]:
        # The session ends: a word still sounding is judged on what was heard of it.
        return self._run_ended() + self._end_turn()

    def _block_in(self, block: np.ndarray) -> list[TurnUpdate]:
        voiced = float(np.sqrt(np.mean(block * block))) > VOICED_RMS
        start = self._position
        self._position += len(block)
        if voiced:
            if not self._run:
                self._run_start = start
            self._run.append(block)
            self._silence_since = None
            return []
        updates = self._run_ended()
        if self._silence_since is None:
            self._silence_since = start
        silence_ms = (self._position - self._silence_since) * 1000 // self._rate
        if self._words and silence_ms >= END_OF_TURN_SILENCE_MS:
            updates += self._end_turn()
        return updates

    def _run_ended(self) -> list[TurnUpdate]:
        if not self._run:
            return []
        samples = np.concatenate(self._run)
        self._run = []
        run_ms = len(samples) * 1000 / self._rate
        if run_ms < MIN_WORD_FRACTION * WORD_MS:
            return []  # a fragment: a word cut by the session's start or end
        if run_ms > MAX_WORD_FRACTION * WORD_MS:
            return []  # a splice: no word of the code
        number = decode_word(samples, self._rate)
        if number is None:
            return []
        start = self._run_start
        word = EmuWord(
            text=word_text(number),
            start_ms=start * 1000 // self._rate,
            end_ms=(start + len(samples)) * 1000 // self._rate,
            confidence=0.9,
            is_final=False,
        )
        self._words = [*(finalised(w) for w in self._words), word]
        return [TurnUpdate(words=tuple(self._words), end_of_turn=False)]

    def _end_turn(self) -> list[TurnUpdate]:
        if not self._words:
            return []
        update = TurnUpdate(words=tuple(finalised(w) for w in self._words), end_of_turn=True)
        self._words = []
        return [update]
