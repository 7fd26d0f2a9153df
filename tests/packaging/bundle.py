"""Building the PyInstaller bundle, for the packaging tests and the launch benchmark."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "live-transcriber.spec"
NAME = "live-transcriber"


@dataclass(frozen=True)
class Bundle:
    folder: Path  # dist/live-transcriber
    build_seconds: float

    @property
    def executable(self) -> Path:
        return self.folder / NAME

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"


def pyinstaller_available() -> bool:
    done = subprocess.run([sys.executable, "-c", "import PyInstaller"], capture_output=True,
                          check=False, timeout=60)
    return done.returncode == 0


def build_bundle(out: Path, python: str = sys.executable, timeout: float = 900) -> Bundle:
    """Run PyInstaller on the spec with its work and dist folders under ``out``."""
    dist, work = out / "dist", out / "build"
    shutil.rmtree(dist, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"PyInstaller failed ({done.returncode}):\n{done.stderr[-6000:]}")
    return Bundle(dist / NAME, elapsed)


def folder_size(folder: Path) -> int:
    """Bytes of every regular file under ``folder`` (what ``du -sb`` counts, without dirs)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def load_bundle_strip() -> ModuleType:
    """``packaging/bundle_strip.py``, loaded from its file as the spec loads it (the folder is no
    Python package, and ``packaging`` is a library's name too)."""
    if "bundle_strip" in sys.modules:
        return sys.modules["bundle_strip"]
    spec = importlib.util.spec_from_file_location("bundle_strip",
                                                  ROOT / "packaging" / "bundle_strip.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bundle_strip"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def unused_dependencies() -> list[str]:
    """The spec's ``UNUSED_DEPENDENCIES`` literal: packages the bundle leaves out because only
    code paths the app never takes import them."""
    tree = ast.parse(SPEC.read_text(), str(SPEC))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "UNUSED_DEPENDENCIES"):
            names = ast.literal_eval(node.value)
            assert isinstance(names, list) and all(isinstance(n, str) for n in names)
            return names
    raise AssertionError(f"no UNUSED_DEPENDENCIES = [...] in {SPEC}")
