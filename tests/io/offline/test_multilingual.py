"""Other languages offline: the spoken language and the task reach faster-whisper, and the
language a multilingual model heard comes back on the final Turn.

Two real models: the bundled English-only ``tiny.en`` (which must keep transcribing English
whatever the settings say) and Systran's multilingual ``base`` from the test dependencies
(``tests/support/multilingual_model.py``), on a Spanish sentence spoken by espeak-ng. A
recording proxy stands at the faster-whisper call boundary: it sees the exact keyword
arguments of every decode and passes them on to the real model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.config import Settings
from app.core.languages import WHISPER_LANGUAGES
from app.core.messages import Turn
from app.core.transcript import TranscriptModel
from app.io.offline.catalog import ModelCatalog
from app.io.offline.model import (
    TINY_EN,
    DecodeOptions,
    WhisperModelLoader,
    WhisperRecogniser,
)
from app.io.offline.store import OfflineModels
from app.io.offline.transcriber import OfflineTranscriber
from tests.support.multilingual_model import base_model_folder
from tests.support.speech import load_fixture

__all__ = ["base_model_folder"]  # the fixture, used by name

SPANISH_WORDS = {"buenos", "días", "tiempo", "viaje", "tren", "madrid"}


class CallLog:
    """faster-whisper's ``WhisperModel`` as the recogniser sees it, noting each call's options."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, audio: Any, **options: Any) -> Any:
        self.calls.append(options)
        return self._real.transcribe(audio, **options)


def watched(recogniser: WhisperRecogniser) -> tuple[WhisperRecogniser, CallLog]:
    log = CallLog(recogniser._model)  # noqa: SLF001 - the boundary under test
    return WhisperRecogniser(recogniser.spec, recogniser.folder, log), log


@pytest.fixture(scope="module")
def base(base_model_folder: Path) -> WhisperRecogniser:
    spec = ModelCatalog.default().get("base").spec
    return WhisperModelLoader(spec, base_model_folder).load_blocking()


def words_of(turn: Turn) -> set[str]:
    return {w.text.strip(".,!?¿¡").lower() for w in turn.words}


def one_final(turns: list[Turn]) -> Turn:
    (final,) = [t for t in turns if t.end_of_turn]
    return final


def test_the_language_list_is_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    # Cantonese is large-v3's only; the catalog's multilingual models do not know it.
    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES) - {"yue"}


def test_an_english_only_model_transcribes_english_whatever_is_asked(
        recogniser: WhisperRecogniser) -> None:
    asked = DecodeOptions(language=None, task="translate")
    assert asked.for_model(TINY_EN) == DecodeOptions(language="en", task="transcribe")
    model, log = watched(recogniser)
    hello = load_fixture("hello")
    final = one_final(OfflineTranscriber(model, options=asked).finish(hello.pcm))
    assert [(c["language"], c["task"]) for c in log.calls] == [("en", "transcribe")]
    assert "transcription" in final.transcript.lower()
    assert final.language_code is None and final.language_confidence is None


def finals_of(turns: list[Turn]) -> list[Turn]:
    """The finals of a recording (the spanish fixture has two sentences: past
    ``sentence_turn_ms`` a turn ends at the first one's end, as it would live)."""
    finals = [t for t in turns if t.end_of_turn]
    assert finals
    return finals


def test_automatic_detects_the_language_of_each_turn(base: WhisperRecogniser) -> None:
    model, log = watched(base)
    spanish = load_fixture("spanish")
    finals = finals_of(OfflineTranscriber(model, options=DecodeOptions(language=None))
                       .finish(spanish.pcm))
    assert {(c["language"], c["task"]) for c in log.calls} == {(None, "transcribe")}
    for final in finals:
        assert final.language_code == "es"
        assert final.language_confidence is not None and final.language_confidence > 0.5
    said = set().union(*(words_of(final) for final in finals))
    assert len(said & SPANISH_WORDS) >= 4, [f.transcript for f in finals]


def test_translate_to_english(base: WhisperRecogniser) -> None:
    model, log = watched(base)
    spanish = load_fixture("spanish")
    finals = finals_of(OfflineTranscriber(model, options=DecodeOptions(language=None,
                                                                       task="translate"))
                       .finish(spanish.pcm))
    assert {(c["language"], c["task"]) for c in log.calls} == {(None, "translate")}
    # The language spoken, not the one written.
    assert [final.language_code for final in finals] == ["es"] * len(finals)
    english = set().union(*(words_of(final) for final in finals))
    written = [f.transcript for f in finals]
    assert len(english & SPANISH_WORDS - {"madrid"}) <= 1, written
    assert english & {"good", "morning", "today", "weather", "trip", "train"}, written


async def test_the_chosen_language_reaches_the_paragraph(base: WhisperRecogniser,
                                                         base_model_folder: Path) -> None:
    """Settings → OfflineModels → OfflineEngine → Turn → the transcript's paragraph."""
    models = OfflineModels(ModelCatalog.default(), base_model_folder.parent)
    settings = Settings(offline_model="base", spoken_language="es")
    assert models.loader_for("base").spec.multilingual
    finals: list[Turn] = []
    done = asyncio.Event()

    def sink(event: object) -> None:
        if isinstance(event, Turn) and event.end_of_turn:
            finals.append(event)
            done.set()

    engine = models.engine_for(settings)(sink)
    await engine.start()
    engine.send_audio(load_fixture("spanish").pcm + bytes(32 * 1500))
    await engine.stop()
    await asyncio.wait_for(done.wait(), 60)
    transcript = TranscriptModel()
    for turn in finals:
        transcript.apply(turn)
    languages = [t.language for t in transcript.finals if t.text]
    assert languages and set(languages) == {"es"}
    said = set().union(*(words_of(final) for final in finals))
    assert len(said & SPANISH_WORDS) >= 4, [f.transcript for f in finals]


def test_an_empty_decode_has_no_language(base: WhisperRecogniser) -> None:
    decoded = base.decode(np.zeros(0, dtype=np.float32), options=DecodeOptions(language=None))
    assert decoded.words == [] and decoded.language is None
