"""No words made up from silence or noise: a minute of each after a spoken sentence.

The sentence comes first on purpose: once a turn is finished its text is the prompt of every
later decode, and a prompted Whisper fed music repeats the prompt ("The library opens early
in the morning. The library opens early in the morning. ..." — measured with the segment
filter switched off). Voice-activity gating keeps silence and noise away from the model; the
segment filter (``SpeechEvidence``) throws out what the model did not hear when sounds that
the detector takes for speech (tones) get through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from app.io.offline.engine import OfflineEngine
from app.io.offline.model import SAMPLE_RATE, WhisperRecogniser
from tests.io.offline.test_engine import ReadySource, Sink, feed, silence
from tests.support.speech import load_fixture, word_error_rate

MINUTE_S = 60


def silent(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def pink_noise(seconds: float, rms: float = 0.2) -> np.ndarray:
    """1/f noise (white noise shaped in the frequency domain), loud: RMS 0.2 of full scale."""
    rng = np.random.default_rng(1)
    size = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(size))
    frequencies = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    spectrum[1:] /= np.sqrt(frequencies[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, size)
    shaped: np.ndarray = (noise / np.sqrt(np.mean(noise**2)) * rms).astype(np.float32)
    return shaped


def music(seconds: float) -> np.ndarray:
    """Chords of harmonic tones, a new one every 0.4 s with a plucked envelope: what the
    voice-activity detector takes for speech, so the model does get to hear it."""
    rng = np.random.default_rng(2)
    note = np.arange(int(0.4 * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.minimum(1.0, note / 0.02) * np.exp(-note * 3)
    chords = []
    for _ in range(int(seconds / 0.4)):
        root = 220 * 2 ** (int(rng.integers(0, 24)) / 12)
        tones = sum(np.sin(2 * np.pi * root * ratio * note) / (k + 1)
                    for k, ratio in enumerate((1, 1.26, 1.5, 2, 3)))
        chords.append(0.075 * envelope * tones)
    return np.concatenate(chords).astype(np.float32)


def s16le(samples: np.ndarray) -> bytes:
    return bytes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.mark.parametrize("sound", [silent, pink_noise, music], ids=["silence", "pink", "music"])
def test_a_minute_of_sound_without_speech_gives_no_words(
        recogniser: WhisperRecogniser, sound: Callable[[float], np.ndarray]) -> None:
    library = load_fixture("library")
    sink = Sink()

    async def run() -> None:
        engine = OfflineEngine(ReadySource(recogniser), sink)
        await engine.start()
        await feed(engine, silence(300) + library.pcm + silence(1000) + s16le(sound(MINUTE_S)))
        await engine.stop()

    asyncio.run(run())
    (final,) = sink.finals
    assert word_error_rate([library.reference], [final.transcript]) <= 0.1
    after = sink.turns[sink.turns.index(final) + 1:]
    assert [t.transcript or " ".join(w.text for w in t.words) for t in after] == []
