"""Fixtures of the packaging tests: one PyInstaller bundle per session, and X servers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.bundle import ROOT, Bundle, build_bundle, pyinstaller_available
from tests.packaging.desktop import XServer, missing_tools, start_xvfb


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    """dist/live-transcriber built from the working tree into a temporary folder (~1 min).
    Removed at the end of the session: pytest would otherwise keep ~1 GB per run."""
    if not pyinstaller_available():
        pytest.fail("PyInstaller is not installed in this venv: "
                    ".venv/bin/pip install -e '.[package]' (or run `make test`)")
    out = tmp_path_factory.mktemp("pyinstaller")
    try:
        built = build_bundle(out)
        print(f"\nbundle built in {built.build_seconds:.1f} s")
        yield built
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture
def x_server(tmp_path: Path) -> Iterator[XServer]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)} (run the tests through `make test`)")
    server = start_xvfb(tmp_path / "xvfb.log")
    try:
        yield server
    finally:
        server.stop()


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a double-clicked app gets: PATH, a home, a UTF-8 locale, nothing from this venv
    or source tree (no PYTHONPATH, no VIRTUAL_ENV, no display unless given)."""
    home.mkdir(parents=True, exist_ok=True)
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and not Path(p).resolve().is_relative_to(ROOT)]  # not this checkout's .venv
    env = {"PATH": os.pathsep.join(path), "HOME": str(home), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def require(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)} (run the tests through `make test`)")
