"""Launch-to-window time of the packaged app, and the bundle's size (and build time).

Run: ``.venv/bin/python -m benchmarks.bench_launch [--bundle DIR | --build] [--runs 5]``

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Launch-to-window time of the bundle.")
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / NAME,
                        help="the one-folder bundle (default: dist/live-transcriber)")
    parser.add_argument("--build", action="store_true",
                        help="build a fresh bundle into a temporary folder first (timed)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default="gio,binary,source",
                        help="comma-separated: gio, binary, source")
    args = parser.parse_args(argv)

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
