"""Stop on a computer too slow for the last decodes: the words are waited for as long as the
decoder keeps finishing decodes; only a decoder that finishes none for ``stop_timeout`` is
taken for hung, and then Stop still ends, with a plain error."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from app.core.agreement import TimedWord
from app.core.messages import Termination
from app.core.ports import SessionFailed
from app.io.offline.engine import OfflineEngine, OfflineOptions
from app.io.offline.model import Decoded, WhisperRecogniser
from tests.io.offline.test_engine import ReadySource, Sink, silence
from tests.support.speech import load_fixture

SENTENCES = ("library", "notebook", "boat", "meeting", "weather")


class SlowRecogniser:
    """The real recogniser's voice-activity detector, with a decoder that takes ``delay_s``
    per decode whatever the machine's load (it sleeps, then hears one word per second of
    audio), or that hangs until ``release`` when ``hold`` is set."""

    def __init__(self, real: WhisperRecogniser, delay_s: float) -> None:
        self._real = real
        self._delay_s = delay_s
        self.release = threading.Event()
        self.hold = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def decode(self, audio: np.ndarray, prompt: str = "", options: Any = None) -> Decoded:
        if self.hold:
            self.release.wait(60)  # a hung decoder (released when the test ends)
        else:
            time.sleep(self._delay_s)  # a slow computer, decoding
        seconds = len(audio) // 16_000
        return Decoded([TimedWord(f"w{i}", i * 1000, i * 1000 + 500) for i in range(seconds)])

    def transcribe(self, audio: np.ndarray, prompt: str = "",
                   options: Any = None) -> list[TimedWord]:
        return self.decode(audio, prompt, options).words


def speech() -> bytes:
    return silence(500) + b"".join(load_fixture(n).pcm + silence(900) for n in SENTENCES)


async def test_stop_waits_for_a_slow_decoder_that_keeps_finishing_decodes(
        recogniser: WhisperRecogniser) -> None:
    slow = SlowRecogniser(recogniser, delay_s=0.5)
    sink = Sink()
    # Each decode takes longer than a third of the stop timeout and the last sentences need
    # several of them: all of Stop's work together takes longer than the timeout.
    engine = OfflineEngine(ReadySource(slow), sink,  # type: ignore[arg-type]
                           options=OfflineOptions(stop_timeout=1.2))
    await engine.start()
    engine.send_audio(speech())
    began = time.monotonic()
    await engine.stop()
    took = time.monotonic() - began
    print(f"stop took {took:.1f} s, {engine.stats}")
    assert sink.failures == [], sink.failures
    assert sink.finals and any(isinstance(e, Termination) for e in sink.events)
    assert took > 1.2  # the case at hand: Stop's work outlasted the timeout and was waited for


async def test_stop_gives_up_on_a_decoder_that_hangs_and_says_so(
        recogniser: WhisperRecogniser) -> None:
    hung = SlowRecogniser(recogniser, delay_s=0.0)
    hung.hold = True
    sink = Sink()
    engine = OfflineEngine(ReadySource(hung), sink,  # type: ignore[arg-type]
                           options=OfflineOptions(stop_timeout=0.5))
    try:
        await engine.start()
        engine.send_audio(speech())
        await engine.stop()
    finally:
        hung.release.set()
    assert [type(f) for f in sink.failures] == [SessionFailed]
    failure = sink.failures[0]
    assert isinstance(failure, SessionFailed)
    assert "did not finish the last words" in failure.error.message
