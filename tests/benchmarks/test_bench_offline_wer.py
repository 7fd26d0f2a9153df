"""The offline benchmark's second WER: Whisper's own English normaliser counts spellings of
the same words as no error, and every word heard wrong as one."""

from __future__ import annotations

import pytest

from benchmarks.bench_offline import whisper_wer
from tests.support.speech import word_error_rate

REFERENCE = ("It was a cold-hearted thing to say. Her brother had always been ill-disposed "
             "towards their neighbours, on a well-run, up-to-date service, leaving at 7.")


@pytest.mark.parametrize("heard", [
    "It was a cold hearted thing to say her brother had always been ill disposed towards "
    "their neighbors, on a well run up to date service leaving at seven",
    "It was a cold-hearted thing to say. Her brother had always been ill-disposed towards "
    "their neighbors on a well-run up-to-date service, leaving at seven.",
])
def test_spellings_of_the_same_words_are_no_error(heard: str) -> None:
    assert whisper_wer([REFERENCE], [heard]) == 0.0
    assert word_error_rate([REFERENCE], [heard]) > 0.0  # the project's own counts them


def test_words_heard_wrong_still_count() -> None:
    heard = REFERENCE.replace("ill-disposed", "old-sposed").replace("thing", "think")
    # 29 words once hyphens are word breaks: "old sposed" for "ill disposed" is 2, "think" 1.
    assert whisper_wer([REFERENCE], [heard]) == pytest.approx(3 / 29)
    assert whisper_wer([REFERENCE], [""]) == 1.0
    assert whisper_wer([REFERENCE, "a b"], [REFERENCE, "a c"]) == pytest.approx(1 / 31)


def test_the_replay_gives_the_same_figures_on_every_run() -> None:
    """``--replay``: the transcriber alone, fixed pieces, no clock (the smoke fixture)."""
    from app.io.offline.model import WhisperModelLoader
    from benchmarks.bench_offline import replay, sources

    recogniser = WhisperModelLoader().load_blocking()
    first, again = (replay(recogniser, sources([], smoke=True), [250]) for _ in range(2))
    assert first["total"] == again["total"]
    (row,) = first["rows"]
    assert row["clip"] == "fixture-meeting" and row["piece_ms"] == 250 and row["finals"]
    assert first["total"]["errors_streamed_per_run"] <= 2, row["finals"]


def test_the_distance_from_the_one_shot_needs_no_reference() -> None:
    """``differs``: edit distance per one-shot word, so real speech with no transcription is
    still measured; its WER is NaN, which the totals leave out and the table shows empty."""
    import math

    from benchmarks.bench_offline import _figure, _wer, differs

    one_shot = "we had a long discussion about how easy we want to make it"
    assert differs(one_shot, one_shot) == 0.0
    streamed = "we had a long discussion about about how easy we want to make it"
    assert differs(one_shot, streamed) == pytest.approx(1 / 13)  # one word twice
    assert differs("", "") == 0.0
    assert math.isnan(_wer("", one_shot)) and _figure(_wer("", one_shot)) is None
    assert _wer("we had", "we have") == 0.5
