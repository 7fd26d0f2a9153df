"""Coded speech for counting words across reconnects (the code: `tests/emulator/coded.py`).

`make_coded_speech([[0, 1, 2], [3, 4]])` is 16 kHz mono s16le audio with two "sentences";
the emulator's `--recognizer coded` (`CodedRecognizer`) hears exactly the words
`coded_words(...)` = `["n000", "n001", "n002", "n003", "n004"]` in two turns.  Use unique
numbers across a test so that a lost or doubled word is visible.  `word_spans()` gives each
word's sample range, e.g. to cut a stream in the middle of a word.

`python -m tests.support.coded_speech OUT.wav 0,1,2 3,4` writes a WAV (e.g. for a virtual mic).
"""

from __future__ import annotations

import sys
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tests.emulator.coded import (
    MAX_WORD,
    SENTENCE_GAP_MS,
    WORD_GAP_MS,
    WORD_MS,
    word_frequency,
    word_text,
)

SAMPLE_RATE = 16000
LEAD_MS = 300  # silence before the first word
AMPLITUDE = 0.4  # of full scale
FADE_MS = 5  # raised-cosine edges: no clicks, so no spurious spectral peaks


def coded_words(sentences: Sequence[Sequence[int]]) -> list[str]:
    """The words the recogniser must hear, in order."""
    return [word_text(number) for sentence in sentences for number in sentence]


def word_spans(
    sentences: Sequence[Sequence[int]], sample_rate: int = SAMPLE_RATE
) -> list[tuple[int, int]]:
    """(first sample, end sample) of every word of `make_coded_speech(sentences)`."""
    spans: list[tuple[int, int]] = []
    position = _samples(LEAD_MS, sample_rate)
    word = _samples(WORD_MS, sample_rate)
    for index, sentence in enumerate(sentences):
        if index:
            position += _samples(SENTENCE_GAP_MS - WORD_GAP_MS, sample_rate)
        for number in sentence:
            _check(number)
            spans.append((position, position + word))
            position += word + _samples(WORD_GAP_MS, sample_rate)
    return spans


def make_coded_speech(
    sentences: Sequence[Sequence[int]], sample_rate: int = SAMPLE_RATE
) -> bytes:
    """16-bit little-endian mono PCM: lead silence, the words, a sentence gap at the end."""
    spans = word_spans(sentences, sample_rate)
    numbers = [number for sentence in sentences for number in sentence]
    end = (spans[-1][1] if spans else 0) + _samples(SENTENCE_GAP_MS, sample_rate)
    audio = np.zeros(max(end, _samples(LEAD_MS, sample_rate)), dtype=np.float64)
    for (first, last), number in zip(spans, numbers, strict=True):
        audio[first:last] = _tone(word_frequency(number), last - first, sample_rate)
    return (audio * AMPLITUDE * 32767).round().astype("<i2").tobytes()


def write_coded_speech_wav(
    path: Path, sentences: Sequence[Sequence[int]], sample_rate: int = SAMPLE_RATE
) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(make_coded_speech(sentences, sample_rate))
    return path


def _tone(frequency: float, length: int, sample_rate: int) -> np.ndarray:
    t = np.arange(length) / sample_rate
    tone = np.sin(2 * np.pi * frequency * t)
    fade = min(length // 2, _samples(FADE_MS, sample_rate))
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
        tone[:fade] *= ramp
        tone[length - fade :] *= ramp[::-1]
    return tone


def _samples(ms: int, sample_rate: int) -> int:
    return sample_rate * ms // 1000


def _check(number: int) -> None:
    if not 0 <= number <= MAX_WORD:
        raise ValueError(f"coded word numbers are 0..{MAX_WORD}, not {number}")


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m tests.support.coded_speech OUT.wav 0,1,2 3,4 ...", file=sys.stderr)
        return 2
    sentences = [[int(n) for n in group.split(",") if n] for group in argv[1:]]
    write_coded_speech_wav(Path(argv[0]), sentences)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
