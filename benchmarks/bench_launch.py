"""Launch-to-window time of the packaged app, and the bundle's size (and build time).

Run: ``.venv/bin/python -m benchmarks.bench_launch [--bundle DIR | --build] [--runs 5]``;
``--probe`` (``--smoke``: one warm start) instead times the start from source to the window
shown and to ready to record, warm and cold (``run(smoke)``, what ``make bench`` runs; below).

On a private Xvfb (no window manager), with a fresh home in a temporary folder, it installs the
bundle with ``packaging/install.sh`` and then measures, for each way of starting the app, the
time from launching to the X server mapping the window titled "Live Transcriber" (an X event,
no polling: see ``tests/packaging/desktop.py``). After each run the window gets a polite close
(WM_DELETE_WINDOW) and the app must exit with status 0.

* ``gio launch``  the installed desktop entry, as a double-click in the app menu starts it;
* ``binary``      the installed executable, started directly;
* ``source``      ``python -m app.main`` from this checkout, for comparison.

The first start in the new home (no settings, no caches of its own yet) is run once beforehand
and reported on its own line, not counted. The bundle's files are in the page cache (just
built or installed): a first start after a reboot reads them from disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.packaging.bundle import ROOT, Bundle, build_bundle, folder_size
from tests.packaging.desktop import (
    Launched,
    MapWatcher,
    desktop_env,
    launch,
    launch_desktop_entry,
    request_close,
    xvfb,
)

NAME = "live-transcriber"
Launcher = Callable[[], Launched]


def time_launch(display: str, start: Launcher) -> float:
    """Seconds from ``start()`` to the window being mapped; closes the app again."""
    with MapWatcher(display) as watcher:
        started = time.perf_counter()
        launched = start()
        try:
            window = watcher.wait_mapped(timeout=60)
            elapsed = time.perf_counter() - started
            request_close(display, window)
            statuses = launched.exits(timeout=60)
        finally:
            launched.kill()
    if any(status != 0 for status in statuses.values()):
        raise RuntimeError(f"a process did not exit cleanly: {statuses}")
    return elapsed


# --- launch → shown → ready, from source, warm and cold (run(smoke), make bench) -------------

@dataclass
class ProbeRun:
    shown_s: float
    ready_s: float
    devices: int
    engine: str


def drop_page_cache() -> str:
    """Empty the kernel's page cache (root only) so the next start reads its files from disk;
    returns why not when it cannot."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as error:
        return f"cannot drop the page cache ({error.strerror})"
    return ""


def probe_once(env: dict[str, str], cwd: Path) -> ProbeRun:
    """Start the app from source through benchmarks/launch_probe.py; times from just before
    the process is created."""
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.launch_probe"], env=env,
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    stamps = {line.split()[0]: line.split(maxsplit=2) for line in out.splitlines()
              if line.startswith(("SHOWN ", "READY "))}
    if process.returncode != 0 or set(stamps) != {"SHOWN", "READY"}:
        raise RuntimeError(f"the app exited {process.returncode} after {out!r}: {err[-2000:]}")
    ready = stamps["READY"]
    detail = dict(part.split("=", 1) for part in ready[2].split(" ", 1))
    return ProbeRun(float(stamps["SHOWN"][1]) - began, float(ready[1]) - began,
                    int(detail["devices"]), detail["engine"].strip("'\""))


def probe_row(mode: str, runs: list[ProbeRun]) -> dict[str, object]:
    shown = [r.shown_s for r in runs]
    ready = [r.ready_s for r in runs]
    return {"start": mode, "runs": len(runs),
            "shown median s": round(statistics.median(shown), 3),
            "shown min s": round(min(shown), 3), "shown max s": round(max(shown), 3),
            "ready median s": round(statistics.median(ready), 3),
            "ready min s": round(min(ready), 3), "ready max s": round(max(ready), 3),
            "devices": runs[-1].devices, "engine": runs[-1].engine}


def run(smoke: bool = False) -> dict[str, object]:
    """Source start-up, warm (and cold unless ``smoke``), in a fresh home on a private Xvfb
    with a private PulseAudio server holding one virtual microphone."""
    from tests.support.pulse import PulseServer

    warm_runs, cold_runs = (1, 0) if smoke else (5, 3)
    notes = ["From source (python -m app.main through benchmarks/launch_probe.py): shown = the "
             "main window's first paint done, ready = controller.initialize() returned (key "
             "loaded, devices listed, engine chosen); from just before the process is created.",
             "Fresh home (no key: the engine is the offline one), private Xvfb, private "
             "PulseAudio with one virtual microphone; the first start in the home (settings "
             "created) is not counted" + (" (smoke: it is the one measured)." if smoke else ".")]
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "pulse").mkdir()
        pulse = PulseServer(tmp / "pulse")
        with pulse.serving(), xvfb(tmp / "xvfb.log") as server:
            pulse.set_default_source(pulse.load_sink("vmic").monitor)
            env = {**desktop_env(tmp / "desktop", server.display), "PYTHONPATH": str(ROOT),
                   "PULSE_SERVER": pulse.env["PULSE_SERVER"], "QT_API": "pyside6"}
            home = Path(env["HOME"])
            if not smoke:  # the first start in this home (settings created): not counted
                probe_once(env, home)
            rows.append(probe_row("source, warm", [probe_once(env, home)
                                                   for _ in range(warm_runs)]))
            cold: list[ProbeRun] = []
            for _ in range(cold_runs):
                why = drop_page_cache()
                if why:
                    notes.append(f"Cold start not measured: {why}.")
                    break
                cold.append(probe_once(env, home))
            if cold:
                rows.append(probe_row("source, cold", cold))
                notes.append("Cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before each "
                             "start (as root): Python, Qt and the app's files come from disk.")
    if not smoke:
        rows.extend(bundle_rows(notes))
    headline: dict[str, object] = {"warm: to shown s": rows[0]["shown median s"],
                                   "warm: to ready s": rows[0]["ready median s"]}
    if len(rows) > 1 and rows[1]["start"] == "source, cold":
        headline["cold: to shown s"] = rows[1]["shown median s"]
        headline["cold: to ready s"] = rows[1]["ready median s"]
    return {"name": "launch", "rows": rows, "headline": headline, "notes": notes,
            "plots": [{"x": "start", "y": ["shown median s", "ready median s"], "kind": "bar",
                       "title": "Start-up: launch → window shown → ready to record",
                       "ylabel": "s"}]}


def bundle_rows(notes: list[str]) -> list[dict[str, object]]:
    """Launch → window mapped for the packaged binary, warm and cold, if a bundle is built."""
    bundle = Bundle(ROOT / "dist" / NAME, float("nan"))
    if not bundle.executable.exists():
        notes.append(f"No bundle at dist/{NAME} (make package): the packaged start-up was not "
                     "measured.")
        return []
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-launch-bundle-") as tmp_name:
        tmp = Path(tmp_name)
        with xvfb(tmp / "xvfb.log") as server:
            env = desktop_env(tmp / "desktop", server.display)
            home = Path(env["HOME"])
            program = [str(bundle.executable)]
            time_launch(server.display, lambda: launch(program, env, cwd=home))  # first start
            for label, count, cold in (("bundle, warm", 5, False), ("bundle, cold", 3, True)):
                times: list[float] = []
                for _ in range(count):
                    if cold and drop_page_cache():
                        break
                    times.append(time_launch(server.display,
                                             lambda: launch(program, env, cwd=home)))
                if times:
                    rows.append({"start": label, "runs": len(times),
                                 "shown median s": round(statistics.median(times), 3),
                                 "shown min s": round(min(times), 3),
                                 "shown max s": round(max(times), 3)})
    notes.append("Bundle rows: the installed-less binary in dist/, launch → the X server maps "
                 "the window (no ready figure: the probe runs from source only).")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Launch-to-window time of the bundle.")
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / NAME,
                        help="the one-folder bundle (default: dist/live-transcriber)")
    parser.add_argument("--build", action="store_true",
                        help="build a fresh bundle into a temporary folder first (timed)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default="gio,binary,source",
                        help="comma-separated: gio, binary, source")
    parser.add_argument("--probe", action="store_true",
                        help="instead: source start-up to shown and ready, warm and cold")
    parser.add_argument("--smoke", action="store_true", help="with --probe: one warm start")
    args = parser.parse_args(argv)
    if args.probe or args.smoke:
        from benchmarks.report import print_result

        print_result(run(smoke=args.smoke))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp_name:
        tmp = Path(tmp_name)
        if args.build:
            bundle = build_bundle(tmp / "pyinstaller")
            print(f"build time:   {bundle.build_seconds:.1f} s (PyInstaller, fresh work folder)")
        else:
            bundle = Bundle(args.bundle, float("nan"))
            if not bundle.executable.exists():
                print(f"no bundle at {bundle.folder}: run `make package` or pass --build",
                      file=sys.stderr)
                return 2
        files = sum(1 for p in bundle.folder.rglob("*") if p.is_file())
        print(f"bundle size:  {folder_size(bundle.folder) / 2**20:.0f} MiB in {files} files "
              f"({bundle.folder})")

        with xvfb(tmp / "xvfb.log") as server:
            env = desktop_env(tmp / "desktop", server.display)
            subprocess.run(["bash", str(ROOT / "packaging" / "install.sh"), "--bundle",
                            str(bundle.folder)], env=env, check=True, capture_output=True,
                           timeout=300)
            home = Path(env["HOME"])
            entry = home / ".local" / "share" / "applications" / f"{NAME}.desktop"
            program = home / ".local" / "lib" / NAME / NAME
            launchers: dict[str, Launcher] = {
                "gio": lambda: launch_desktop_entry(entry, env, cwd=home),
                "binary": lambda: launch([str(program)], env, cwd=home),
                "source": lambda: launch([sys.executable, "-m", "app.main"],
                                         {**env, "PYTHONPATH": str(ROOT)}, cwd=home),
            }
            first = time_launch(server.display, launchers["gio"])
            print(f"first start:  {first:.2f} s (gio launch, in the new home; not counted)")
            for mode in args.modes.split(","):
                times = [time_launch(server.display, launchers[mode]) for _ in range(args.runs)]
                print(f"{mode:<12}  min {min(times):.2f} s  median {statistics.median(times):.2f} s"
                      f"  ({', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
