"""faster-whisper's VAD internals in one place, for faster-whisper 1.2.1 only (pinned in
pyproject.toml).

``faster_whisper.vad`` is not exported by the package (its ``__all__`` has ``WhisperModel`` and
friends only), but the offline engine needs Silero VAD on its own: to find speech spans in the
live buffer, and to load the ONNX session before the first recording. Importing this module
imports faster-whisper (CTranslate2, onnxruntime): do it lazily, off the UI thread.
"""

from __future__ import annotations

from typing import Final

from app.io.version_pins import require_pinned_version

PINNED_VERSION: Final = "1.2.1"

require_pinned_version(
    "faster-whisper", PINNED_VERSION,
    private_use="faster_whisper.vad (VadOptions, get_speech_timestamps, get_vad_model)",
    compat_module=__name__,
)

# Only after the version check: another release may fail right here, and should say why.
from faster_whisper.vad import (  # type: ignore[import-untyped, unused-ignore]  # noqa: E402
    VadOptions,
    get_speech_timestamps,
    get_vad_model,
)

__all__ = ["PINNED_VERSION", "VadOptions", "get_speech_timestamps", "get_vad_model"]
