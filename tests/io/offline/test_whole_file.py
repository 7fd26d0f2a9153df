"""The offline engine for a file (``finals_only``): no words in progress, far fewer decodes
than live, and the very same finals (they depend on the audio alone, not on the pace)."""

from __future__ import annotations

import asyncio

from app.io.offline.engine import OfflineEngine, OfflineOptions
from app.io.offline.model import WhisperRecogniser
from tests.io.offline.test_engine import DecodeLog, ReadySource, Sink, feed, silence
from tests.support.speech import OFFLINE_FIXTURES, load_fixture, word_error_rate


def test_a_file_gets_finals_only_with_fewer_decodes_and_the_same_words(
        recogniser: WhisperRecogniser) -> None:
    fixtures = [load_fixture(name) for name in OFFLINE_FIXTURES]
    pcm = silence(500) + b"".join(f.pcm + silence(1200) for f in fixtures)

    async def run(options: OfflineOptions) -> tuple[Sink, int]:
        sink, spy = Sink(), DecodeLog(recogniser)
        engine = OfflineEngine(ReadySource(spy), sink, options=options)
        await engine.start()
        await feed(engine, pcm)
        await engine.stop()
        await engine.wait_closed()
        return sink, len(spy.decodes)

    # Live at full pace all along (a loaded machine must not make it shed partials itself).
    live, live_decodes = asyncio.run(run(OfflineOptions(adapt_pace=False)))
    whole, whole_decodes = asyncio.run(run(OfflineOptions(finals_only=True)))
    assert all(turn.end_of_turn for turn in whole.turns)  # no partials at all
    assert any(not turn.end_of_turn for turn in live.turns)
    assert whole_decodes < live_decodes, (whole_decodes, live_decodes)
    assert [t.transcript for t in whole.finals] == [t.transcript for t in live.finals]
    reference = " ".join(f.reference for f in fixtures)
    assert word_error_rate([reference], [" ".join(t.transcript for t in whole.finals)]) <= 0.08
