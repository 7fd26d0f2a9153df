"""Locating, verifying and loading the bundled Whisper model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import OfflineModelError
from app.io.offline import model as whisper_model
from app.io.offline.model import (
    TINY_EN,
    DecodeOptions,
    WhisperModelLoader,
    WhisperRecogniser,
    bundled_model_folder,
    file_digest,
    verify_model_folder,
)
from tests.support.speech import load_fixture, word_error_rate


def test_the_bundled_model_is_the_pinned_tiny_en() -> None:
    folder = bundled_model_folder()
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == sorted(
        f.name for f in TINY_EN.files)
    verify_model_folder(folder, TINY_EN)  # raises on any difference


def test_verification_hashes_each_file_once_per_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = bundled_model_folder()
    verify_model_folder(folder, TINY_EN)
    hashed: list[Path] = []

    def spy(path: Path) -> str:
        hashed.append(path)
        return ""

    monkeypatch.setattr(whisper_model, "file_digest", spy)
    verify_model_folder(folder, TINY_EN)
    assert hashed == []


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(bundled_model_folder(), folder)
    return folder


def test_a_missing_file_is_named(model_copy: Path) -> None:
    (model_copy / "tokenizer.json").unlink()
    with pytest.raises(OfflineModelError, match="tokenizer.json is missing"):
        verify_model_folder(model_copy, TINY_EN)


def test_a_truncated_file_is_refused_without_hashing_it(
        model_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (model_copy / "model.bin").open("r+b") as handle:
        handle.truncate(1000)
    hashed: list[Path] = []

    def spy(path: Path) -> str:
        hashed.append(path)
        return file_digest(path)

    monkeypatch.setattr(whisper_model, "file_digest", spy)
    with pytest.raises(OfflineModelError) as raised:
        verify_model_folder(model_copy, TINY_EN)
    assert "model.bin" in raised.value.message
    assert "1000 bytes" in raised.value.detail
    assert model_copy / "model.bin" not in hashed


def test_a_changed_file_is_caught_even_after_the_folder_was_verified(model_copy: Path) -> None:
    verify_model_folder(model_copy, TINY_EN)
    vocabulary = model_copy / "vocabulary.txt"
    data = bytearray(vocabulary.read_bytes())
    data[0] ^= 0x20
    vocabulary.write_bytes(bytes(data))  # same size, new mtime
    with pytest.raises(OfflineModelError, match="vocabulary.txt"):
        verify_model_folder(model_copy, TINY_EN)


async def test_every_loader_of_a_folder_shares_one_model() -> None:
    first = await WhisperModelLoader().load()
    assert await WhisperModelLoader().load() is first
    assert WhisperModelLoader().loaded is first
    assert first.spec is TINY_EN


def test_silence_has_no_speech_and_no_words() -> None:
    recogniser = WhisperModelLoader().load_blocking()
    quiet = np.zeros(16_000, dtype=np.float32)
    assert recogniser.speech_spans(quiet, min_silence_ms=250) == []
    assert recogniser.transcribe(np.zeros(0, dtype=np.float32)) == []


def test_the_encoder_hears_the_speech_plus_three_seconds_not_thirty(
        recogniser: WhisperRecogniser, monkeypatch: pytest.MonkeyPatch) -> None:
    from faster_whisper import WhisperModel

    from app.io.offline import faster_whisper_compat as compat

    frames: list[int] = []
    real_encode = WhisperModel.encode

    def spy(self: object, features: np.ndarray) -> object:
        frames.append(features.shape[-1])
        return real_encode(self, features)

    monkeypatch.setattr(WhisperModel, "encode", spy)
    weather = load_fixture("weather")
    speech = np.frombuffer(weather.pcm, dtype="<i2").astype(np.float32) / 32768.0
    # Over 10 s: the window follows the speech. (Not the same sentence three times: Whisper
    # takes that for a loop and drops it.)
    others = [np.frombuffer(load_fixture(name).pcm, dtype="<i2").astype(np.float32) / 32768.0
              for name in ("meeting", "library")]
    long = np.concatenate([speech, *others])

    short_words = recogniser.transcribe(speech)
    assert frames == [1000]  # 10 s at least
    frames.clear()
    recogniser.transcribe(long)
    assert frames == [compat.window_frames(long.size / 16_000 + 3)]
    assert 1000 < frames[0] < 3000
    frames.clear()
    whisper_words = recogniser.transcribe(speech, options=DecodeOptions(window_pad_s=None))
    assert frames == [3000]  # Whisper's own 30 s, for comparison
    # The shorter window hears the same sentence.
    assert [w.key for w in short_words] == [w.key for w in whisper_words]
    assert word_error_rate([weather.reference], [" ".join(w.text for w in short_words)]) <= 0.15
    # The window is the call's only: none is left behind on this thread.
    assert getattr(recogniser._model._window, "frames", None) is None  # noqa: SLF001


def test_window_frames_are_even_and_at_most_thirty_seconds() -> None:
    from app.io.offline import faster_whisper_compat as compat

    assert compat.window_frames(10.0) == 1000
    assert compat.window_frames(10.005) == 1002
    assert compat.window_frames(45.0) == compat.FULL_WINDOW_FRAMES
