"""Each ``*_compat`` module imports on the release it was written for and refuses any other.

The version lookup is replaced only for the import under test (``sys.modules`` entries are
restored by monkeypatch afterwards), so the real module stays in place for every other test.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from app.io import version_pins
from app.io.version_pins import IncompatibleVersionError

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# (compat module, distribution it wraps)
COMPAT_MODULES = [
    ("app.io.devices.pulsectl_compat", "pulsectl"),
    ("app.io.offline.faster_whisper_compat", "faster-whisper"),
    ("app.io.keyring_compat", "keyring"),
]


def fresh_import(monkeypatch: pytest.MonkeyPatch, module: str) -> ModuleType:
    monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(module)


def pyproject_pin(distribution: str) -> str:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for requirement in dependencies:
        match = re.match(rf"{re.escape(distribution)}==([^;\s]+)", requirement, re.IGNORECASE)
        if match:
            return match.group(1)
    raise AssertionError(f"{distribution} is not pinned in pyproject.toml")


@pytest.mark.parametrize(("module", "distribution"), COMPAT_MODULES)
def test_imports_on_the_pinned_release(monkeypatch: pytest.MonkeyPatch, module: str,
                                       distribution: str) -> None:
    compat = fresh_import(monkeypatch, module)
    pinned = compat.PINNED_VERSION
    assert pinned == importlib.metadata.version(distribution)
    # Moving the pin in pyproject.toml without re-checking the compat module must fail here.
    assert pinned == pyproject_pin(distribution)


@pytest.mark.parametrize(("module", "distribution"), COMPAT_MODULES)
@pytest.mark.parametrize("installed", ["0.0.1", None])
def test_refuses_to_import_on_another_release(monkeypatch: pytest.MonkeyPatch, module: str,
                                              distribution: str, installed: str | None) -> None:
    pinned = importlib.metadata.version(distribution)
    asked: list[str] = []

    def other_release(name: str) -> str | None:
        asked.append(name)
        return installed

    monkeypatch.setattr(version_pins, "installed_version", other_release)
    with pytest.raises(IncompatibleVersionError) as info:
        fresh_import(monkeypatch, module)
    assert asked == [distribution]
    message = str(info.value)
    assert f"{distribution} {pinned} is required" in message
    found = "is installed without metadata" if installed is None else f"{installed} is installed"
    assert f"but {distribution} {found}." in message
    assert module in message and f"{distribution}=={pinned}" in message
    # Not an ImportError: no "optional library missing, fall back" handler may swallow it.
    assert not isinstance(info.value, ImportError)


def test_installed_version_reads_package_metadata() -> None:
    assert version_pins.installed_version("keyring") == importlib.metadata.version("keyring")
    assert version_pins.installed_version("no-such-distribution-live-transcriber") is None


def test_keyring_forgets_its_viable_backends() -> None:
    import keyring.backend

    from app.io.keyring_compat import forget_viable_backends

    keyring.backend.get_all_keyring()
    assert "saved_result" in vars(keyring.backend.get_all_keyring)
    forget_viable_backends()
    assert "saved_result" not in vars(keyring.backend.get_all_keyring)
    forget_viable_backends()  # nothing cached: still fine
