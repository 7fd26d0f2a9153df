"""The real bundled model, loaded once per test session (``WhisperModelLoader`` caches it)."""

from __future__ import annotations

import pytest

from app.io.offline.model import WhisperModelLoader, WhisperRecogniser


@pytest.fixture(scope="session")
def recogniser() -> WhisperRecogniser:
    return WhisperModelLoader().load_blocking()
