"""Speech fixtures and word error rate, shared by the offline tests and the benchmark."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.agreement import normalise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Made by tests/fixtures/make_fixtures.sh (flite -voice rms): 16 kHz mono s16le.
OFFLINE_FIXTURES = ("library", "notebook", "boat", "meeting")


@dataclass(frozen=True)
class SpeechFixture:
    name: str
    wav: Path
    reference: str
    pcm: bytes  # 16 kHz mono s16le

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) // 32


def load_fixture(name: str) -> SpeechFixture:
    wav = FIXTURES / f"{name}.wav"
    with wave.open(str(wav)) as reader:
        if (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) != (16000, 1, 2):
            raise ValueError(f"{wav} is not 16 kHz mono 16-bit")
        pcm = reader.readframes(reader.getnframes())
    reference = (FIXTURES / f"{name}.txt").read_text().strip()
    return SpeechFixture(name, wav, reference, pcm)


def words_of(text: str) -> list[str]:
    return [key for key in (normalise(word) for word in text.split()) if key]


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions + deletions + insertions (word-level Levenshtein distance)."""
    ref, hyp = words_of(reference), words_of(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           diagonal + (ref_word != hyp_word))
    return row[-1]


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: all errors over all reference words."""
    if len(references) != len(hypotheses):
        raise ValueError("one hypothesis per reference")
    errors = sum(word_errors(r, h) for r, h in zip(references, hypotheses, strict=True))
    total = sum(len(words_of(r)) for r in references)
    return errors / total if total else 0.0
