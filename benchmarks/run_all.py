"""Run every benchmark, keep its JSON and plots, and regenerate docs/benchmarks.md.

Run: ``make bench`` (full) or ``make bench ARGS=--smoke`` (seconds per benchmark), i.e.
``.venv/bin/python -m benchmarks.run_all [--smoke] [--only cpu,launch] [--docs-only]``

Benchmarks are discovered, not listed: every ``benchmarks/bench_<x>.py`` whose module has a
``run(smoke)`` function. A module that is not there yet, or has no ``run`` (another helper's
work in progress), is skipped with a printed note rather than failing the run; a benchmark
that raises is reported and the others still run (the exit status is 1 then). Each one runs in
its own child process (``python -m benchmarks.run_all --one <x>``), so one benchmark's memory,
threads and Qt application cannot colour the next one's figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import docs, report

BENCH_DIR = Path(__file__).resolve().parent
# The order the table of contents follows; anything else found runs after these, by name.
# The bundle comes before launch: it (re)builds dist/ when stale, which launch then starts.
PREFERRED = ("cpu", "audio_latency", "transcript_latency", "transcript_view", "soak",
             "bundle", "launch", "offline", "capture")


# Benchmarks whose module is not called bench_<name>.py (older names other code imports).
OTHER_MODULES = {"soak": "benchmarks.soak"}


def module_name(name: str) -> str:
    return OTHER_MODULES.get(name, f"benchmarks.bench_{name}")


def discover() -> list[str]:
    """The ``<x>`` of every ``bench_<x>.py`` file (and soak.py), preferred ones first."""
    found = sorted({p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py")}
                   | {n for n, m in OTHER_MODULES.items()
                      if (BENCH_DIR / f"{m.rsplit('.', 1)[1]}.py").exists()})
    return [n for n in PREFERRED if n in found] + [n for n in found if n not in PREFERRED]


def runner(name: str) -> Callable[[bool], dict[str, Any]] | str:
    """The module's ``run``, or why there is none (a str)."""
    try:
        module = importlib.import_module(module_name(name))
    except ModuleNotFoundError as error:
        return f"cannot be imported ({error})"
    run = getattr(module, "run", None)
    if not callable(run):
        return "has no run(smoke) yet"
    return run  # type: ignore[no-any-return]


def run_one(name: str, smoke: bool) -> int:
    """In the child: run, check, print, save, plot. The JSON path goes to stdout last."""
    found = runner(name)
    if isinstance(found, str):
        print(f"skipped {module_name(name)}: it {found}")
        return 3
    load_before = [round(v, 2) for v in os.getloadavg()]
    began = time.monotonic()
    result = found(smoke)
    if result.get("name") != name:
        print(f"bench_{name} returned a result named {result.get('name')!r}, not {name!r}")
        return 1
    result.setdefault("notes", [])
    result["wall_seconds"] = round(time.monotonic() - began, 1)
    result["smoke"] = smoke
    result["load_average_before"] = load_before
    problems = report.check_result(result)
    if problems:
        print(f"bench_{name} returned a malformed result: {'; '.join(problems)}")
        return 1
    if not result["rows"]:
        print(f"nothing measured by {module_name(name)}: " + " ".join(result["notes"]))
        return 3
    report.print_result(result)
    path = report.save(result, variant="smoke" if smoke else "")
    try:
        plots = report.plot_all(result, path)
    except ImportError:
        print("note: matplotlib is not installed (pip install -e '.[bench]'): no plots")
        plots = []
    print(f"saved {path.relative_to(report.ROOT)}"
          + "".join(f", {p.relative_to(report.ROOT)}" for p in plots))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--smoke", action="store_true", help="the short version of each")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. cpu,launch")
    parser.add_argument("--docs-only", action="store_true",
                        help="only regenerate docs/benchmarks.md from the latest results")
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # the child's side
    args = parser.parse_args(argv)
    if args.one:
        return run_one(args.one, args.smoke)
    names = discover()
    if args.only:
        wanted = args.only.split(",")
        unknown = [n for n in wanted if n not in names]
        for name in unknown:
            print(f"skipped bench_{name}: there is no benchmarks/bench_{name}.py")
        names = [n for n in names if n in wanted]
    failed: list[str] = []
    if not args.docs_only:
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        for name in names:
            print(f"\n### bench_{name}{' (smoke)' if args.smoke else ''}", flush=True)
            status = subprocess.run(
                [sys.executable, "-m", "benchmarks.run_all", "--one", name]
                + (["--smoke"] if args.smoke else []), cwd=report.ROOT, env=env).returncode
            if status not in (0, 3):
                print(f"bench_{name} FAILED (exit status {status})")
                failed.append(name)
    written = docs.write(smoke=args.smoke)
    print(f"\nwrote {written.relative_to(report.ROOT)}"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
