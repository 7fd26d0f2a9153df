"""faster-whisper's internals in one place, for faster-whisper 1.2.1 only (pinned in
pyproject.toml).

* Silero VAD on its own: ``faster_whisper.vad`` is not exported by the package (its ``__all__``
  has ``WhisperModel`` and friends only), but the offline engine needs it to find speech spans
  in the live buffer, and to load the ONNX session before the first recording. The live
  engine runs the session itself, a few windows at a time with the detector's state carried
  over (:func:`vad_windows`): ``SileroVADModel.__call__`` is one such run from a zero state,
  and its ``session`` takes (windows of 64 context + 512 samples, h, c).
* A shorter encoder window (:class:`WindowedWhisperModel`): faster-whisper pads every window's
  features to Whisper's 30 s (``pad_or_trim`` to 3000 frames) before ``encode``, so a decode
  of 2 s of speech costs the encoder as much as one of 30 s, and on ``tiny.en`` the encoder is
  most of a decode's cost. CTranslate2's Whisper encoder accepts fewer frames; the subclass
  cuts the padding in ``encode`` (1.2.1 calls it for every window, and for language
  detection). Some padding must stay: with none, Whisper does not hear where the audio ends
  and loops ("... only left and turned to say, and she knew it ..." on tiny.en), so callers
  keep a few seconds of it (``encoder_window_s``).

Importing this module imports faster-whisper (CTranslate2, onnxruntime): do it lazily, off the
UI thread.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Final

from app.io.version_pins import require_pinned_version

PINNED_VERSION: Final = "1.2.1"

require_pinned_version(
    "faster-whisper", PINNED_VERSION,
    private_use="faster_whisper.vad (VadOptions, get_speech_timestamps, get_vad_model, "
    "SileroVADModel.session); "
    "WhisperModel.encode receiving features padded to 30 s",
    compat_module=__name__,
)

# Only after the version check: another release may fail right here, and should say why.
from faster_whisper import WhisperModel  # type: ignore[import-untyped, unused-ignore]  # noqa: E402
from faster_whisper.vad import (  # type: ignore[import-untyped, unused-ignore]  # noqa: E402
    VadOptions,
    get_speech_timestamps,
    get_vad_model,
)

VAD_WINDOW: Final = 512  # samples per Silero window at 16 kHz
VAD_CONTEXT: Final = 64  # samples of the window before that each window is heard with
FRAMES_PER_SECOND: Final = 100  # log-Mel frames: 16 kHz audio, hop length 160
FULL_WINDOW_FRAMES: Final = 3000  # Whisper's 30 s


def window_frames(seconds: float) -> int:
    """Encoder frames for a window of ``seconds`` (even: the encoder's convolution halves
    them), at most Whisper's 30 s."""
    frames = math.ceil(seconds * FRAMES_PER_SECOND)
    return min(FULL_WINDOW_FRAMES, frames + frames % 2)


class WindowedWhisperModel(WhisperModel):  # type: ignore[misc, unused-ignore]
    """``WhisperModel`` whose ``transcribe`` takes ``encoder_window_s``: the encoder then hears
    that many seconds of each window (the audio, then silence padding) instead of 30 s.

    The window must be longer than the audio by a few seconds (see the module's note); None
    is Whisper's own 30 s. Thread-safe: the window is kept per thread, and only while this
    call's segments are being decoded (faster-whisper decodes lazily, as they are iterated).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._window = threading.local()

    def transcribe(self, audio: Any, *args: Any, encoder_window_s: float | None = None,
                   **kwargs: Any) -> tuple[Iterator[Any], Any]:
        frames = None if encoder_window_s is None else window_frames(encoder_window_s)
        with self._encoder_frames(frames):  # language detection encodes in here
            segments, info = super().transcribe(audio, *args, **kwargs)
        return self._windowed(segments, frames), info

    def encode(self, features: Any) -> Any:
        frames: int | None = getattr(self._window, "frames", None)
        if frames is not None and features.shape[-1] > frames:
            features = features[..., :frames].copy()  # contiguous, as CTranslate2 needs
        return super().encode(features)

    def _windowed(self, segments: Iterable[Any], frames: int | None) -> Iterator[Any]:
        iterator = iter(segments)
        while True:
            with self._encoder_frames(frames):
                segment = next(iterator, None)
            if segment is None:
                return
            yield segment

    def _encoder_frames(self, frames: int | None) -> _Window:
        return _Window(self._window, frames)


class _Window:
    """Sets the calling thread's encoder window for a block, restoring the one before."""

    def __init__(self, local: threading.local, frames: int | None) -> None:
        self._local = local
        self._frames = frames
        self._before: int | None = None

    def __enter__(self) -> None:
        self._before = getattr(self._local, "frames", None)
        self._local.frames = self._frames

    def __exit__(self, *exc: object) -> None:
        self._local.frames = self._before


def vad_windows(audio: Any, h: Any, c: Any, context: Any) -> tuple[Any, Any, Any]:
    """Silero's speech probability of each 512-sample window of ``audio`` (its length a
    multiple of 512), heard after the state (``h``, ``c``: float32 (1, 1, 128)) and the last
    64 samples (``context``) of the window before; returns the probabilities and the state
    after the last window. Runs as ``SileroVADModel.__call__`` does, so a stream judged a
    window at a time gets exactly the probabilities of one call over all of it."""
    import numpy as np

    windows = audio.reshape(-1, VAD_WINDOW)
    contexts = np.concatenate([context[None, :], windows[:-1, -VAD_CONTEXT:]], 0)
    heard = np.concatenate([contexts, windows], 1).astype(np.float32)
    output, h, c = get_vad_model().session.run(None, {"input": heard, "h": h, "c": c})
    return output.reshape(-1), h, c


__all__ = ["FULL_WINDOW_FRAMES", "PINNED_VERSION", "VAD_CONTEXT", "VAD_WINDOW", "VadOptions",
           "WindowedWhisperModel", "get_speech_timestamps", "get_vad_model", "vad_windows",
           "window_frames"]
