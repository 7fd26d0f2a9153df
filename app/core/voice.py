"""Speech spans from the voice-activity detector's probabilities, on the stream's clock.

Pure. The offline engine runs Silero VAD once over each 32 ms window of the stream as it
arrives, carrying the detector's state from the first window on (``WhisperRecogniser.
speech_probabilities``), so the probability of a window depends on the audio alone, not on
where a buffer happened to begin when it was looked at (re-running the detector over the
current buffer from its start, as before, gave windows probabilities that differed by up to
0.27 for the same audio: the detector carries state from window to window). :func:`speech_spans`
turns a run of those probabilities into spans with faster-whisper's own rules
(``get_speech_timestamps`` with no padding and no maximum length), so every decision taken on
them (where a turn begins, where it ends) is the same however the audio was handed over.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.agreement import SpeechSpan

WINDOW_SAMPLES = 512  # Silero VAD's window at 16 kHz
WINDOW_MS = 32


def speech_spans(probabilities: Sequence[float], *, min_silence_ms: int,
                 min_speech_ms: int = 120, threshold: float = 0.5) -> list[SpeechSpan]:
    """Speech in the windows of ``probabilities`` (one per ``WINDOW_MS``, the first at 0 ms),
    as faster-whisper's ``get_speech_timestamps`` finds it: a span begins at the first
    window at ``threshold`` or above and ends at the first of a run of windows under
    ``threshold - 0.15`` that lasts ``min_silence_ms``; spans of ``min_speech_ms`` or less
    are dropped. A span still open after the last window ends there (``ended`` False)."""
    negative = max(threshold - 0.15, 0.01)
    total = len(probabilities) * WINDOW_MS
    spans: list[SpeechSpan] = []
    start: int | None = None
    quiet_from = 0  # where the silence that may end the span began (0: none yet)
    for index, probability in enumerate(probabilities):
        at = index * WINDOW_MS
        if probability >= threshold:
            quiet_from = 0
            if start is None:
                start = at
                continue
        if start is not None and probability < negative:
            if not quiet_from:
                quiet_from = at
            if at - quiet_from < min_silence_ms:
                continue
            if quiet_from - start > min_speech_ms:
                spans.append(SpeechSpan(start, quiet_from, ended=True))
            start, quiet_from = None, 0
    if start is not None and total - start > min_speech_ms:
        spans.append(SpeechSpan(start, total, ended=False))
    return spans
