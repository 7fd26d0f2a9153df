"""The programs ``bench_cpu`` and ``bench_audio_latency`` compare, and how one is measured.

Each subject is a separate process streaming speech to the local emulator, itself another
process (``python -m tests.emulator``, the scripted recogniser: a partial per 200 ms word, a
formatted final per sentence, like the service), so neither the emulator's CPU nor the
harness's is counted. A microphone subject records a virtual microphone of a private PulseAudio
server (``tests/support/pulse.py``) into which ``paplay`` (another process) plays the speech.

:func:`measure` starts the subject, waits for its ``session <id>`` line on stderr (``Begin``:
connected, streaming), lets it settle, then reads the subject's own counters from ``/proc``
over a fixed window of wall time: CPU (user + system, every thread, from ``/proc/PID/stat``),
context switches of all its threads (each is a wake-up or a preemption) and, at the end, the
peak RSS (``VmHWM``: the whole life of the process, start-up imports included).
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-cpu-key"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Subject:
    """One program to measure: ``argv`` after the Python interpreter; ``mic`` when it records
    the virtual microphone (the harness plays speech into it)."""

    name: str
    argv: tuple[str, ...]
    mic: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


def subjects(url: str, wav: Path, data_dir: Path) -> list[Subject]:
    """Every subject, streaming ``wav`` (16 kHz mono) or the microphone to ``url``."""
    app_env = {"LIVE_TRANSCRIBER_STREAMING_URL": url, "XDG_DATA_HOME": str(data_dir),
               "XDG_CONFIG_HOME": str(data_dir / "config")}
    app = ("-m", "app.main", "--headless", "--engine", "cloud")
    client = ("--url", url)
    return [
        Subject("app file", (*app, "--wav", str(wav)), env=app_env),
        Subject("app mic", app, mic=True, env=app_env),
        # The window (offscreen: Qt paints into memory, no compositor), recording the same mic.
        Subject("app window mic", ("-m", "benchmarks.window_subject", "--engine", "cloud"),
                mic=True, env=app_env),
        Subject("SDK file", ("-m", "benchmarks.sdk_client", *client, "--file", str(wav))),
        Subject("SDK mic", ("-m", "benchmarks.sdk_client", *client, "--mic"), mic=True),
        Subject("original port file",
                ("-m", "benchmarks.original_script_port", *client, "--file", str(wav))),
        Subject("original port mic", ("-m", "benchmarks.original_script_port", *client),
                mic=True),
        Subject("bare websockets file",
                ("-m", "benchmarks.bare_client", *client, "--file", str(wav))),
        Subject("bare websockets 100ms file",
                ("-m", "benchmarks.bare_client", *client, "--file", str(wav),
                 "--frame-ms", "100")),
    ]


# --- /proc ---------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the whole process (all threads, living and ended)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK  # utime, stime (fields 14, 15)


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of the living threads."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.endswith("ctxt_switches:") or "ctxt_switches" in line:
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the emulator and the microphone -------------------------------------------------------

def script_text(min_words: int = 300) -> str:
    """What the emulator's scripted recogniser says: the speech fixtures' sentences over and
    over, at least ``min_words`` (60 s at 200 ms a word), so partials and finals keep coming for
    the whole of a measurement (its default script is 18 words, over ~4 s after Begin, which
    left the receiving side out of most of the window)."""
    fixtures = ROOT / "tests" / "fixtures"
    sentences = [line.strip() for name in ("hello", "library", "weather", "boat", "notebook",
                                           "meeting")
                 for line in (fixtures / f"{name}.txt").read_text().split(".") if line.strip()]
    script: list[str] = []
    while sum(len(s.split()) for s in script) < min_words:
        script += sentences
    return " | ".join(script)


@contextmanager
def emulator() -> Iterator[str]:
    """The emulator in a child process, talking for a minute or more (:func:`script_text`);
    yields its ``ws://`` URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--api-key", KEY,
         "--script-text", script_text()],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if len(line) < 4 or not line[3].startswith("ws://"):
            raise RuntimeError(f"the emulator said {line!r}, not its URL")
        yield line[3]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Microphone:
    """A private PulseAudio server whose default source is a virtual microphone."""

    env: dict[str, str]
    play: subprocess.Popen[bytes] | None = None


@contextmanager
def microphone() -> Iterator[Microphone | None]:
    """The virtual microphone, or None when PulseAudio is not installed."""
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        yield None
        return
    from tests.support.pulse import PulseServer

    runtime = Path(tempfile.mkdtemp(prefix="bench-pulse-"))
    server = PulseServer(runtime)
    try:
        server.start()
        mic = server.load_microphone("benchmic")
        server.set_default_source(mic.name)
        yield Microphone({"PULSE_SERVER": server.env["PULSE_SERVER"],
                          "PULSE_RUNTIME_PATH": server.env["PULSE_RUNTIME_PATH"],
                          "BENCH_SINK": mic.sink.name})
    finally:
        server.stop()
        shutil.rmtree(runtime, ignore_errors=True)


@contextmanager
def playing(mic: Microphone, wav: Path) -> Iterator[None]:
    """``wav`` played into the microphone until it ends or the block does."""
    mic.play = subprocess.Popen(["paplay", "-d", mic.env["BENCH_SINK"], str(wav)],
                                env={**os.environ, **mic.env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        if mic.play.poll() is None:
            mic.play.terminate()
        mic.play.wait(10)


# --- one measurement -----------------------------------------------------------------------

@dataclass(frozen=True)
class Measurement:
    subject: str
    window_s: float
    user_s: float
    system_s: float
    switches: int
    peak_rss_mb: float
    begin_s: float  # process start → Begin

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.system_s

    @property
    def cpu_percent(self) -> float:
        """Percent of one core while streaming."""
        return 100 * self.cpu_s / self.window_s

    @property
    def cpu_s_per_minute(self) -> float:
        return 60 * self.cpu_s / self.window_s


class SubjectFailed(RuntimeError):
    pass


def measure(subject: Subject, extra_env: Mapping[str, str], window_s: float,
            settle_s: float = 1.0, begin_timeout_s: float = 60.0) -> Measurement:
    """Run ``subject`` and read its counters over ``window_s`` seconds of streaming, starting
    ``settle_s`` after its Begin; then stop it (SIGTERM) and wait for it to end."""
    env = {**os.environ, **extra_env, **subject.env, "ASSEMBLYAI_API_KEY": KEY,
           "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, *subject.argv], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    said: list[str] = []
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stderr, selectors.EVENT_READ)
            deadline = began + begin_timeout_s
            buffer = b""
            while not any(line.startswith("session ") for line in said):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SubjectFailed(f"{subject.name} did not begin a session: "
                                        + " | ".join(said[-5:]))
                if selector.select(0.5):
                    chunk = os.read(process.stderr.fileno(), 65536)
                    buffer += chunk
                    *lines, rest = buffer.split(b"\n")
                    buffer = rest
                    said += [line.decode(errors="replace") for line in lines]
            begin_s = time.monotonic() - began
            # Keep draining stderr (partials go there) so the subject never blocks on it.
            drained = _drain(process, settle_s)
            cpu0, switches0 = cpu_seconds(process.pid), context_switches(process.pid)
            t0 = time.monotonic()
            drained += _drain(process, window_s)
            cpu1, switches1 = cpu_seconds(process.pid), context_switches(process.pid)
            t1 = time.monotonic()
            rss = peak_rss_mb(process.pid)
            if process.poll() is not None:
                raise SubjectFailed(f"{subject.name} ended while being measured: "
                                    + drained[-300:])
        return Measurement(subject.name, t1 - t0, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
                           switches1 - switches0, rss, begin_s)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a subject: SIGTERM (it stops as it would for Ctrl+C), then kill after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


def _drain(process: subprocess.Popen[bytes], seconds: float) -> str:
    """Read the subject's stderr for ``seconds`` (so it never blocks writing); the tail."""
    assert process.stderr is not None
    end = time.monotonic() + seconds
    tail = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while (left := end - time.monotonic()) > 0:
            if selector.select(left) and process.poll() is None:
                tail = (tail + os.read(process.stderr.fileno(), 65536))[-2000:]
            elif process.poll() is not None:
                time.sleep(min(left, 0.05))  # ended: nothing more to read; let the caller see
                break
    return tail.decode(errors="replace")
