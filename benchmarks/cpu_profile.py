"""Where a ``bench_cpu`` subject's CPU goes: per thread, wake-ups, and (optionally) per function.

Run: ``.venv/bin/python -m benchmarks.cpu_profile "app file" [--seconds 30] [--cprofile
out.prof] [--py-spy PATH]``

Starts the emulator (and the virtual microphone for a ``mic`` subject) as ``bench_cpu`` does,
runs one subject, lets it settle 1 s after Begin, then reads every thread's CPU (user +
system, ``/proc/PID/task/TID/stat``) and its voluntary / involuntary context switches
(``/proc/PID/task/TID/status``: each voluntary one is a wake-up after waiting) over the
window, and prints them per thread with the thread's name. Python's own thread names come
from ``py-spy dump`` when ``--py-spy`` gives the py-spy binary (installed apart, never a
dependency of the app); else only the OS name (``comm``) is shown.

``--cprofile FILE`` runs the subject under ``cProfile`` (``python -m cProfile -o FILE -m …``)
and prints the functions that took most time in total (the whole run, start-up included:
cProfile cannot be windowed from outside) — counts of calls per second of streaming are the
figure to read there, since cProfile's own overhead inflates every Python call.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import subjects as subj


@dataclass(frozen=True)
class ThreadSample:
    tid: int
    comm: str
    cpu_s: float
    voluntary: int
    involuntary: int


def threads(pid: int) -> dict[int, ThreadSample]:
    found: dict[int, ThreadSample] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            status = (task / "status").read_text()
        except OSError:
            continue  # ended meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / subj.TICK
        switches = dict(re.findall(r"^(\w*ctxt_switches):\s+(\d+)", status, re.M))
        found[int(task.name)] = ThreadSample(
            int(task.name), comm, cpu, int(switches.get("voluntary_ctxt_switches", 0)),
            int(switches.get("nonvoluntary_ctxt_switches", 0)))
    return found


def python_names(py_spy: str | None, pid: int) -> dict[int, str]:
    """OS thread id → Python thread name, from ``py-spy dump`` (empty without py-spy)."""
    if not py_spy:
        return {}
    try:
        out = subprocess.run([py_spy, "dump", "--pid", str(pid)], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names: dict[int, str] = {}
    for match in re.finditer(r'^Thread (0x[0-9A-Fa-f]+|\d+) \((\w+)\): "([^"]*)"', out, re.M):
        ident = match.group(1)
        names[int(ident, 16) if ident.startswith("0x") else int(ident)] = match.group(3)
    return names


def _drain(stream: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while (left := end - time.monotonic()) > 0:
            if selector.select(left):
                if not os.read(stream, 65536):
                    time.sleep(min(left, 0.05))


def profile(subject: subj.Subject, extra_env: dict[str, str], window_s: float,
            cprofile: Path | None, py_spy: str | None, record: Path | None = None) -> None:
    env = {**os.environ, **extra_env, **subject.env, "ASSEMBLYAI_API_KEY": subj.KEY,
           "PYTHONPATH": str(subj.ROOT), "QT_QPA_PLATFORM": "offscreen"}
    argv = list(subject.argv)
    if cprofile is not None:
        argv = ["-m", "cProfile", "-o", str(cprofile), *argv]
    process = subprocess.Popen([sys.executable, *argv], cwd=subj.ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    fd = process.stderr.fileno()
    try:
        buffer = b""
        deadline = time.monotonic() + 60
        while b"\nsession " not in b"\n" + buffer:
            if process.poll() is not None or time.monotonic() > deadline:
                raise subj.SubjectFailed(buffer.decode(errors="replace")[-500:])
            buffer += os.read(fd, 65536)
        _drain(fd, 1.0)
        before, t0 = threads(process.pid), time.monotonic()
        recorder = None
        if py_spy and record is not None:
            # Sampling (py-spy pauses the subject for each sample), only while it streams.
            recorder = subprocess.Popen(
                [py_spy, "record", "--pid", str(process.pid), "--duration", str(int(window_s)),
                 "--rate", "1000", "--threads", "--format", "raw",
                 "--output", str(record)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _drain(fd, window_s)
        if recorder is not None:
            recorder.wait(60)
        after, t1 = threads(process.pid), time.monotonic()
        names = python_names(py_spy, process.pid)
        seconds = t1 - t0
        total_cpu = sum(a.cpu_s - before[t].cpu_s if t in before else a.cpu_s
                        for t, a in after.items())
        print(f"{subject.name}: {seconds:.1f} s window, {100 * total_cpu / seconds:.2f} % of "
              "a core (threads alive at the end)")
        print(f"  {'tid':>7} {'thread':28} {'CPU %':>6} {'wake-ups/s':>10} {'preempt/s':>9}")
        for tid, a in sorted(after.items()):
            b = before.get(tid, ThreadSample(tid, a.comm, 0.0, 0, 0))
            name = names.get(tid, a.comm)
            print(f"  {tid:>7} {name[:28]:28} {100 * (a.cpu_s - b.cpu_s) / seconds:6.2f} "
                  f"{(a.voluntary - b.voluntary) / seconds:10.1f} "
                  f"{(a.involuntary - b.involuntary) / seconds:9.1f}")
    finally:
        subj.stop(process)
    if cprofile is not None and cprofile.exists():
        stats = pstats.Stats(str(cprofile))
        stats.sort_stats("tottime").print_stats(35)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("subject", help='a bench_cpu subject, e.g. "app file"')
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cprofile", type=Path, help="write a cProfile of the run here")
    parser.add_argument("--py-spy", help="path of a py-spy binary, to name Python threads")
    parser.add_argument("--record", type=Path,
                        help="with --py-spy: sample the window at 1 kHz into this file "
                        "(collapsed stacks, for benchmarks.cpu_profile's --fold)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cpu-profile-") as folder:
        tmp = Path(folder)
        from benchmarks.bench_transcript_latency import speech_wav

        wav = speech_wav(tmp, args.seconds + 45)
        with subj.emulator() as url, subj.microphone() as mic:
            chosen = [s for s in subj.subjects(url, wav, tmp / "data") if s.name == args.subject]
            if not chosen:
                parser.error(f"no subject {args.subject!r}")
            subject = chosen[0]
            cprofile = args.cprofile.resolve() if args.cprofile else None
            if subject.mic:
                if mic is None:
                    parser.error("PulseAudio is not installed")
                with subj.playing(mic, wav):
                    profile(subject, mic.env, args.seconds, cprofile, args.py_spy,
                            args.record)
            else:
                profile(subject, {}, args.seconds, cprofile, args.py_spy, args.record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
