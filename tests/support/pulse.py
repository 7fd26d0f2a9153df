"""A real PulseAudio sound server with virtual microphones, for capture and device tests.

Recipe from shared/CI-RECIPES.md: a private ``pulseaudio`` daemon (its own runtime folder, no
system or user config) with a null sink at 16 kHz mono; the sink's monitor is the microphone.
``paplay`` into the sink is "speaking into the microphone". ``norewinds=1`` keeps the first
capture after loading a sink bit-exact.

Clients find the daemon through ``PULSE_SERVER`` (libpulse reads it: PortAudio's ALSA ``pulse``
device, pulsectl and the pa* tools alike), which the session fixture sets for the whole test
process before anything opens audio.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class VirtualSink:
    name: str
    module_index: int
    rate: int
    channels: int

    @property
    def monitor(self) -> str:
        """The source name a recorder opens: the sink's monitor."""
        return f"{self.name}.monitor"


@dataclass(frozen=True)
class VirtualMicrophone:
    """A source that is not a monitor (so the app lists it as a microphone): the remapped
    monitor of ``sink``; playing into ``sink`` is speaking into this microphone."""

    name: str
    module_index: int
    sink: VirtualSink


class PulseServer:
    """A private PulseAudio daemon; every method runs the real pa* command-line tools."""

    def __init__(self, runtime_dir: Path) -> None:
        self.runtime_dir = runtime_dir
        self.socket = runtime_dir / "native"
        self.env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}",
                    "PULSE_RUNTIME_PATH": str(runtime_dir)}
        self._pid: int | None = None

    def start(self) -> None:
        config = self.runtime_dir / "virtmic.pa"
        config.write_text(f"load-module module-native-protocol-unix socket={self.socket}\n")
        log = self.runtime_dir / "pulseaudio.log"
        # No session bus for the daemon: on one (the keyring fixture's) every pulseaudio claims
        # the name org.PulseAudio1, and a second private server then fails to start ("D-Bus
        # name org.PulseAudio1 already taken"). "disabled:" is an address libdbus cannot
        # connect to (pulseaudio warns and runs without D-Bus), and it auto-launches nothing.
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "-F", str(config),
             "--use-pid-file=yes", f"--log-target=file:{log}", "--disallow-module-loading=no"],
            env={**self.env, "DBUS_SESSION_BUS_ADDRESS": "disabled:"}, check=True, timeout=20,
            capture_output=True,
        )
        pid_file = self.runtime_dir / "pid"
        if pid_file.exists():
            self._pid = int(pid_file.read_text().split()[0])
        self.pactl("info")  # answers once the daemon is ready (--daemonize waits for it)

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Start the daemon and point this process at it; stop it and restore the
        environment afterwards."""
        saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH")}
        try:
            self.start()
            os.environ.update({k: self.env[k] for k in saved})
            yield
        finally:
            self.stop()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def stop(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, timeout=10, capture_output=True,
                       check=False)
        if self._pid is not None:
            try:
                os.kill(self._pid, 9)
            except ProcessLookupError:
                pass

    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, check=True, timeout=10,
                              capture_output=True, text=True)
        return done.stdout.strip()

    def load_sink(self, name: str, *, rate: int = 16_000, channels: int = 1) -> VirtualSink:
        index = self.pactl(
            "load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}",
            f"channels={channels}", "format=s16le", "norewinds=1",
            f"sink_properties=device.description={name}",
        )
        return VirtualSink(name, int(index), rate, channels)

    def unload(self, sink: VirtualSink) -> None:
        self.pactl("unload-module", str(sink.module_index))

    def load_microphone(self, name: str) -> VirtualMicrophone:
        sink = self.load_sink(f"{name}-in")
        index = self.pactl("load-module", "module-remap-source", f"master={sink.monitor}",
                           f"source_name={name}", f"source_properties=device.description={name}")
        return VirtualMicrophone(name, int(index), sink)

    def unload_microphone(self, microphone: VirtualMicrophone) -> None:
        self.pactl("unload-module", str(microphone.module_index))
        self.unload(microphone.sink)

    def default_source(self) -> str:
        return self.pactl("get-default-source")

    def set_default_source(self, name: str) -> None:
        self.pactl("set-default-source", name)

    def play(self, wav: Path, sink: VirtualSink, *, volume: float = 1.0
             ) -> subprocess.Popen[bytes]:
        """Start playing ``wav`` into ``sink``, its amplitude times ``volume`` (0.25 is 12 dB
        quieter); the caller waits on the returned process."""
        # PulseAudio's software volume is cubic: 65536 * v**(1/3) scales the samples by v.
        pa_volume = round(65536 * volume ** (1 / 3))
        return subprocess.Popen(["paplay", "-d", sink.name, f"--volume={pa_volume}",
                                 str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    """One private sound server for the test session, with ``vspeaker`` (16 kHz mono) as the
    default microphone. Sets ``PULSE_SERVER`` for this process so capture code finds it."""
    if shutil.which("pulseaudio") is None:
        pytest.fail("pulseaudio is not installed: run the tests through `make test`")
    runtime = Path(tempfile.mkdtemp(prefix="lt-pulse-"))
    server = PulseServer(runtime)
    try:
        with server.serving():
            mic = server.load_sink("vspeaker")
            server.set_default_source(mic.monitor)
            yield server
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
