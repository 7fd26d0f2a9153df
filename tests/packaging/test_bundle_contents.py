"""What the spec leaves out of the bundle, and how it strips what goes in, checked against the
real app and the real libraries of this venv (no bundle is built here: see test_bundle.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from tests.packaging.bundle import ROOT, load_bundle_strip, unused_dependencies
from tests.packaging.conftest import clean_env

# Every app module imported, then the paths that import lazily: the offline model loaded and
# run (CTranslate2, tokenizers, the Silero VAD through onnxruntime) and the keyring opened
# (its backends are found through entry points and imported then).
EVERY_PATH = """
import importlib, json, pkgutil, sys
import numpy as np
import app
for info in pkgutil.walk_packages(app.__path__, "app."):
    importlib.import_module(info.name)
from app.io.offline.model import SAMPLE_RATE, WhisperModelLoader
recogniser = WhisperModelLoader().load_blocking()
second = np.zeros(SAMPLE_RATE, dtype=np.float32)
recogniser.transcribe(second)
recogniser.speech_spans(second, min_silence_ms=500)
from app.io.secrets import open_secret_store
open_secret_store()
print(json.dumps(sorted(sys.modules)))
"""


def test_no_app_path_loads_a_package_the_bundle_leaves_out(tmp_path: Path) -> None:
    nowhere = tmp_path / "no-bus"
    env = clean_env(tmp_path / "home", DBUS_SESSION_BUS_ADDRESS=f"unix:path={nowhere}")
    done = subprocess.run([sys.executable, "-c", EVERY_PATH], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    # The paths ran, and huggingface_hub itself is imported (by faster_whisper.utils): the
    # package stays in the bundle, its submodules go.
    assert {"faster_whisper.vad", "onnxruntime", "ctranslate2", "tokenizers", "av",
            "keyring", "huggingface_hub", "PySide6.QtWidgets"} <= loaded
    left_out = [*unused_dependencies(), "huggingface_hub."]
    assert "pydantic" in left_out and "yaml" in left_out
    found = sorted(module for module in loaded for name in left_out
                   if module == name or module.startswith(name.rstrip(".") + "."))
    assert found == []


def module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin)


def test_the_elf_reader_sees_what_the_loader_reads() -> None:
    strip = load_bundle_strip()
    extension = module_file("ctranslate2._ext")
    elf = strip.read_elf(extension.read_bytes())
    library = next((extension.parents[1] / "ctranslate2.libs").glob("libctranslate2-*"))
    assert library.name in elf.needed and elf.soname is None
    assert elf.aligned and elf.worth_stripping  # the wheel ships it with its DWARF
    assert strip.read_elf(library.read_bytes()).soname == library.name
    assert strip.read_elf(b"#!/bin/sh\n") is None


def test_a_load_segment_out_of_page_alignment_is_seen(tmp_path: Path) -> None:
    strip = load_bundle_strip()
    data = bytearray(module_file("ctranslate2._ext").read_bytes())
    elf = strip.read_elf(bytes(data))
    index = next(i for i, s in enumerate(elf.segments) if s.kind == 1 and s.offset > 0)
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, = struct.unpack_from("<H", data, 0x36)
    where = phoff + index * phentsize + 8  # p_offset
    struct.pack_into("<Q", data, where, elf.segments[index].offset + 0x98)
    assert not strip.read_elf(bytes(data)).aligned


def test_a_stripped_copy_keeps_what_the_loader_reads_and_loses_the_rest(tmp_path: Path) -> None:
    strip = load_bundle_strip()
    source = module_file("ctranslate2._ext")
    target = tmp_path / "stripped" / source.name
    assert strip.strip_copy(source, target) == "stripped"
    original, copy = strip.read_elf(source.read_bytes()), strip.read_elf(target.read_bytes())
    assert copy.aligned and copy.needed == original.needed and copy.soname == original.soname
    assert not copy.worth_stripping
    assert not [n for n in copy.section_names if n.startswith((b".symtab", b".debug"))]
    assert target.stat().st_size < source.stat().st_size / 4  # 64 MiB of DWARF gone
    assert strip.strip_copy(target, tmp_path / "again" / source.name) == "skipped"


def test_a_copy_that_plain_strip_breaks_keeps_its_original(tmp_path: Path) -> None:
    """numpy's OpenBLAS, as PyInstaller's strip=True would strip it (`strip` on the file):
    if that copy cannot be mapped on this machine's binutils, strip_copy refuses it."""
    strip = load_bundle_strip()
    openblas = next((module_file("numpy").parents[1] / "numpy.libs").glob("libscipy_openblas*"))
    plain = tmp_path / "plain" / openblas.name
    plain.parent.mkdir()
    shutil.copyfile(openblas, plain)
    subprocess.run(["strip", str(plain)], check=True, capture_output=True, timeout=120)
    plain_elf = strip.read_elf(plain.read_bytes())
    target = tmp_path / "checked" / openblas.name
    outcome = strip.strip_copy(openblas, target)
    if plain_elf.aligned and plain_elf.needed == strip.read_elf(openblas.read_bytes()).needed:
        assert outcome == "stripped" and strip.read_elf(target.read_bytes()).aligned
    else:
        assert outcome == "refused" and not target.exists()


def test_strip_binaries_swaps_in_sound_copies_only(tmp_path: Path) -> None:
    strip = load_bundle_strip()
    extension = module_file("ctranslate2._ext")
    script = ROOT / "packaging" / "install.sh"  # not ELF: goes in as it is
    binaries = [("ctranslate2/" + extension.name, str(extension), "EXTENSION"),
                ("install.sh", str(script), "BINARY")]
    result, report = strip.strip_binaries(binaries, tmp_path / "stripped")
    assert result[0] == (binaries[0][0], str(tmp_path / "stripped" / binaries[0][0]),
                         "EXTENSION")
    assert result[1] == binaries[1]
    assert report.stripped == [binaries[0][0]] and report.refused == []
    assert report.saved_bytes == extension.stat().st_size - Path(result[0][1]).stat().st_size


def test_bundle_benchmark_smoke_and_missing_bundle_give_a_note_and_no_table(
        tmp_path: Path) -> None:
    from benchmarks.bench_bundle import run

    smoke = run(smoke=True)
    assert smoke["name"] == "bundle" and smoke["rows"] == [] and smoke["headline"] == {}
    assert smoke["notes"] and "smoke" in str(smoke["notes"])
    missing = run(smoke=False, bundle=tmp_path / "dist" / "live-transcriber")
    assert missing["rows"] == [] and "make package" in str(missing["notes"])


def test_bundle_benchmark_rebuilds_only_a_bundle_older_than_its_sources(tmp_path: Path) -> None:
    import os

    from benchmarks.bench_bundle import stale

    root, bundle = tmp_path / "repo", tmp_path / "repo" / "dist" / "live-transcriber"
    (root / "app" / "__pycache__").mkdir(parents=True)
    (root / "packaging").mkdir()
    source, spec = root / "app" / "main.py", root / "packaging" / "live-transcriber.spec"
    cache = root / "app" / "__pycache__" / "main.cpython-311.pyc"
    for path in (source, spec, cache, root / "pyproject.toml"):
        path.write_text("x")
        os.utime(path, (1000, 1000))
    assert stale(bundle, root) == "there is no bundle yet"
    bundle.mkdir(parents=True)
    (bundle / "live-transcriber").write_text("binary")
    os.utime(bundle / "live-transcriber", (2000, 2000))
    assert stale(bundle, root) is None
    os.utime(cache, (3000, 3000))  # compiled caches are not sources
    assert stale(bundle, root) is None
    os.utime(spec, (3000, 3000))
    assert stale(bundle, root) == ("packaging/live-transcriber.spec changed after the bundle "
                                   "was built")
