"""The benchmarks' shared side: print a result, keep it as JSON with the machine, plot it.

Every benchmark module ``benchmarks/bench_<x>.py`` exposes ``run(smoke: bool) -> dict`` with

    {"name": "<x>",                       # the file stem after "bench_"
     "rows": [{column: value, ...}, ...], # the table; values are str, int, float or None
                                          # (empty when nothing was measured: notes say why)
     "headline": {key: number, ...},      # the figures docs/benchmarks.md leads with
     "notes": [str, ...],                 # what was measured, what was adapted or skipped
     "plots": [PlotSpec, ...]}            # optional: how run_all should plot the rows

and keeps a ``__main__`` with ``--smoke``. ``smoke=True`` finishes in seconds (CI runs it);
figures are never compared with a threshold, only checked to be numbers (``check_result``).

``save`` writes ``benchmarks/results/<name>-<UTC timestamp>.json`` with the machine described
(CPU model, cores, load average before/after as the caller gives it, Python, the app's key
package versions, the git commit), since absolute times only mean something next to the
machine they came from. ``plot`` draws with matplotlib, installed only by the ``bench`` extra
and imported lazily (Agg backend), so nothing else needs it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypedDict

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
KEY_PACKAGES = ("PySide6-Essentials", "qasync", "websockets", "PyAudio", "numpy", "soxr",
                "faster-whisper", "ctranslate2", "av", "keyring", "assemblyai", "matplotlib")
_STAMP = "%Y%m%d-%H%M%S"

Result = dict[str, Any]
Row = Mapping[str, object]


class PlotSpec(TypedDict, total=False):
    """One figure from a result's rows: ``y`` columns against ``x`` (bars or lines)."""

    x: str  # required: the column naming each bar / point ("a+b": both columns' values)
    y: list[str]  # required: the columns drawn
    kind: str  # "bar" (default) or "line"
    title: str
    ylabel: str
    file: str  # a suffix for the PNG's name when a result has several plots


# --- the shape every benchmark returns -------------------------------------------------------

def check_result(result: Mapping[str, object]) -> list[str]:
    """What is wrong with ``result``'s shape (empty when it is right): the keys, the table, and
    every number finite and non-negative (times, sizes, counts and ratios all are). A result
    may have no rows when it measured nothing (e.g. the bundle is not built): a note must then
    say why."""
    problems: list[str] = []
    name = result.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name):
        problems.append(f"name must be a lower-case identifier, not {name!r}")
    rows = result.get("rows")
    if not isinstance(rows, list):
        problems.append("rows must be a list")
        rows = []
    elif not rows and not result.get("notes"):
        problems.append("rows is empty and no note says why")
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not row:
            problems.append(f"row {index} is not a non-empty dict")
            continue
        for column, value in row.items():
            problems.extend(f"row {index} {column}: {p}" for p in _value_problems(value))
    headline = result.get("headline")
    if not isinstance(headline, dict):
        problems.append("headline must be a dict")
    else:
        for key, value in headline.items():
            if value is None:
                continue
            if not _is_number(value):
                problems.append(f"headline {key}: {value!r} is not a number")
            else:
                problems.extend(f"headline {key}: {p}" for p in _value_problems(value))
    notes = result.get("notes")
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.append("notes must be a list of str")
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _value_problems(value: object) -> list[str]:
    if value is None or isinstance(value, str | bool):
        return []
    if not _is_number(value):
        return [f"{value!r} is neither a number, a str nor None"]
    assert isinstance(value, int | float)
    if not math.isfinite(value):
        return [f"{value!r} is not finite"]
    if value < 0:
        return [f"{value!r} is negative"]
    return []


# --- printing ----------------------------------------------------------------------------------

def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not _is_number(value):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    assert isinstance(value, float)
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def columns_of(rows: Sequence[Row]) -> list[str]:
    """Every column, in first-seen order (rows may differ: a missing cell prints as "-")."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def table_lines(rows: Sequence[Row], columns: Sequence[str] | None = None) -> list[str]:
    columns = list(columns) if columns is not None else columns_of(rows)
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        # The first column names the row (left-aligned); figures are right-aligned.
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    return [line(columns), line(["-" * w for w in widths])] + [line(c) for c in cells]


def print_table(rows: Sequence[Row], columns: Sequence[str] | None = None,
                out: Callable[[str], None] = print) -> None:
    for text in table_lines(rows, columns):
        out(text)


def markdown_table(rows: Sequence[Row], columns: Sequence[str] | None = None) -> str:
    columns = list(columns) if columns is not None else columns_of(rows)
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"
    body = ["| " + " | ".join(format_value(row.get(c)).replace("|", "\\|") for c in columns)
            + " |" for row in rows]
    return "\n".join([head, rule, *body])


def print_result(result: Mapping[str, Any], out: Callable[[str], None] = print) -> None:
    out(f"== {result['name']} ==")
    print_table(result["rows"], out=out)
    if result.get("headline"):
        out("headline: " + ", ".join(f"{k} {format_value(v)}"
                                     for k, v in result["headline"].items()))
    for note in result.get("notes", []):
        out(f"note: {note}")


# --- the machine -------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    """The checkout's commit, with "+dirty" when files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit or "unknown") + ("+dirty" if dirty else "")


def machine() -> dict[str, object]:
    versions: dict[str, str] = {}
    for package in KEY_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count() or 0,
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0,
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "commit": git_commit(),
    }


# --- keeping results ---------------------------------------------------------------------------

def save(result: Mapping[str, Any], folder: Path = RESULTS, variant: str = "") -> Path:
    """Write ``result`` with the machine and the time to ``<name>[-<variant>]-<stamp>.json``
    (the load average is the one at saving time: the end of the run)."""
    problems = check_result(result)
    if not result.get("rows"):
        problems.append("nothing was measured (no rows)")
    if problems:
        raise ValueError(f"result {result.get('name')!r} is malformed: " + "; ".join(problems))
    now = datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{result['name']}-{variant + '-' if variant else ''}{now.strftime(_STAMP)}"
    path = folder / f"{stem}.json"
    record = {**result, "utc": now.isoformat(timespec="seconds"), "machine": machine()}
    path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    return path


def results_of(name: str, folder: Path = RESULTS, variant: str = "") -> list[Path]:
    """``name``'s saved results (exactly that variant), oldest first."""
    prefix = f"{name}-{variant + '-' if variant else ''}"
    pattern = re.compile(re.escape(prefix) + r"(\d{8}-\d{6})\.json")
    found = [(m.group(1), p) for p in folder.glob(f"{prefix}*.json")
             if (m := pattern.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def latest(name: str, folder: Path = RESULTS, variant: str = "") -> dict[str, Any] | None:
    """The newest saved result of ``name`` (with ``"path"`` added), or None if there is none."""
    paths = results_of(name, folder, variant)
    if not paths:
        return None
    record: dict[str, Any] = json.loads(paths[-1].read_text())
    record["path"] = str(paths[-1])
    return record


# --- plots -------------------------------------------------------------------------------------

def plot(result: Mapping[str, Any], spec: PlotSpec, path: Path) -> Path:
    """Draw ``spec`` from ``result``'s rows into the PNG ``path`` (rows lacking a y value are
    left out of that series). matplotlib is imported here, not at module level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: list[Mapping[str, object]] = result["rows"]
    labels = [" ".join(format_value(row.get(c)) for c in spec["x"].split("+")) for row in rows]
    figure, axes = plt.subplots(figsize=(8, 4.2), dpi=100)
    try:
        series = spec["y"]
        if spec.get("kind", "bar") == "line":
            for column in series:
                points = [(i, v) for i, row in enumerate(rows)
                          if (v := _number(row.get(column))) is not None]
                axes.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                          label=column)
            axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        else:
            width = 0.8 / max(1, len(series))
            for offset, column in enumerate(series):
                values = [_number(row.get(column)) or 0.0 for row in rows]
                axes.bar([i + offset * width for i in range(len(rows))], values, width,
                         label=column)
            axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(rows))],
                            labels, rotation=30, ha="right")
        axes.set_title(spec.get("title", result["name"]))
        axes.set_ylabel(spec.get("ylabel", ""))
        axes.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            axes.legend()
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path


def plot_all(result: Mapping[str, Any], json_path: Path) -> list[Path]:
    """Every plot a result asks for, next to its JSON (``<stem>[-<file>].png``)."""
    made: list[Path] = []
    for spec in result.get("plots", []):
        suffix = f"-{spec['file']}" if spec.get("file") else ""
        made.append(plot(result, spec, json_path.with_name(f"{json_path.stem}{suffix}.png")))
    return made
