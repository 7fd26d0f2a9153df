"""Speech spans from the detector's per-window probabilities, with no audio and no model."""

from __future__ import annotations

from app.core.agreement import SpeechSpan
from app.core.voice import WINDOW_MS, speech_spans


def windows(*runs: tuple[float, int]) -> list[float]:
    """Probabilities: ``(p, n)`` is n windows (32 ms each) at probability p."""
    return [p for p, n in runs for _ in range(n)]


def test_a_span_runs_from_the_first_window_heard_as_speech_to_the_silence_after_it() -> None:
    probs = windows((0.1, 10), (0.9, 20), (0.1, 10))
    assert speech_spans(probs, min_silence_ms=250) == [
        SpeechSpan(10 * WINDOW_MS, 30 * WINDOW_MS, ended=True)]


def test_a_span_ends_only_after_min_silence_ms_of_silence() -> None:
    # 8 windows (256 ms) of silence at the end: not yet 250 ms counted from its first window
    # plus the window that reaches it; the span is still open and ends with the windows.
    probs = windows((0.9, 20), (0.1, 8))
    assert speech_spans(probs, min_silence_ms=250) == [SpeechSpan(0, 28 * WINDOW_MS, False)]
    probs = windows((0.9, 20), (0.1, 9))
    assert speech_spans(probs, min_silence_ms=250) == [SpeechSpan(0, 20 * WINDOW_MS, True)]


def test_a_short_pause_does_not_split_speech_and_a_long_one_does() -> None:
    probs = windows((0.9, 20), (0.1, 5), (0.9, 20), (0.1, 10), (0.9, 20), (0.1, 20))
    assert speech_spans(probs, min_silence_ms=250) == [
        SpeechSpan(0, 45 * WINDOW_MS, True), SpeechSpan(55 * WINDOW_MS, 75 * WINDOW_MS, True)]
    assert len(speech_spans(probs, min_silence_ms=120)) == 3


def test_between_the_two_thresholds_speech_goes_on_and_silence_does_not_begin() -> None:
    # Under 0.5 does not start speech; over 0.35 does not count as silence once it started.
    assert speech_spans(windows((0.45, 30)), min_silence_ms=250) == []
    probs = windows((0.9, 10), (0.4, 20), (0.1, 10))
    assert speech_spans(probs, min_silence_ms=250) == [SpeechSpan(0, 30 * WINDOW_MS, True)]


def test_speech_shorter_than_min_speech_ms_is_no_span() -> None:
    assert speech_spans(windows((0.1, 5), (0.9, 3), (0.1, 20)), min_silence_ms=250) == []
    assert speech_spans(windows((0.1, 5), (0.9, 3)), min_silence_ms=250) == []
    assert speech_spans(windows((0.1, 5), (0.9, 4)), min_silence_ms=250) == [
        SpeechSpan(5 * WINDOW_MS, 9 * WINDOW_MS, False)]


def test_the_spans_of_a_stream_that_goes_on_stay_what_they_were() -> None:
    """Causal: a span that ended stays as it was when more windows come (the turn rules rely
    on it: a pause seen once is the same pause at every later look)."""
    probs = windows((0.1, 10), (0.9, 30), (0.1, 12), (0.9, 25), (0.2, 9), (0.8, 40), (0.1, 30))
    full = speech_spans(probs, min_silence_ms=250)
    for length in range(len(probs) + 1):
        seen = speech_spans(probs[:length], min_silence_ms=250)
        closed = [s for s in seen if s.ended]
        assert closed == full[:len(closed)]
