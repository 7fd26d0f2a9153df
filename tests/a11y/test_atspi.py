"""The real window, started as ``python -m app.main``, read and driven over the real AT-SPI
accessibility bus the way a screen reader (Orca) or a speech-control tool would.

Recipe from shared/CI-RECIPES.md ("Driving the window over the accessibility bus"): for this
module only, an Xvfb screen, a private D-Bus session bus, the AT-SPI bus launcher and registry,
then the app with ``QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1`` on the ``xcb`` platform, talking to the
local emulator with an environment key and recording from the private PulseAudio's virtual
microphone. ``atspi_driver.py`` runs under Debian's ``/usr/bin/python3`` (the only Python with
``pyatspi``) as a separate client and prints JSON; this side asserts on it. Every wait polls a
real query (a driver run, a pipe, a process) against a deadline; nothing sleeps.

The tests share one app and run in file order: names, auth, keyboard, record, settings dialog,
and last the close.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer, SessionParams
from tests.emulator.recognizers import TurnUpdate
from tests.support.pulse import PulseServer, VirtualSink

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("atspi_driver.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: the one with python3-pyatspi
HELLO = ROOT / "tests" / "fixtures" / "hello.wav"  # 3.1 s of flite speech
APP_NAME = "live-transcriber"  # QApplication.applicationName: the application's AT-SPI name
WINDOW_TITLE = "Live Transcriber"
KEY = "a11y-test-key-0123456789"
SENTENCE = "hello this is a test of live transcription"  # hello.wav says it; so does the script
SCRIPT = (SENTENCE, "the second sentence is still going")
MIC = VirtualSink("vspeaker", -1, 16_000, 1)  # the pulse_server fixture's virtual microphone

# objectName -> accessible name a person hears. The device picker is checked separately: on
# Linux Qt names a combo box by its current item and labels it through a relation.
NAMES = {
    "refreshDevicesButton": "Refresh devices",
    "levelMeter": "Input level",
    "recordingIndicator": "Recording time",
    "settingsButton": "Settings",
    "transcriptView": "Transcript",
    "recordButton": "Start recording",
    "copyButton": "Copy transcript",
    "saveButton": "Save transcript",
    "clearButton": "Clear transcript",
}
OBJECT_NAMES = ("devicePicker", "enginePicker", "engineStatus", *NAMES)
# Copy and Save are disabled while the transcript is empty, so Tab passes them by.
TAB_ORDER = ("devicePicker", "refreshDevicesButton", "enginePicker", "settingsButton",
             "transcriptView", "recordButton", "clearButton")
CLOUD_VALID = "AssemblyAI cloud (US) · key valid"
ROLES = {
    "devicePicker": "combo box", "enginePicker": "combo box", "refreshDevicesButton": "push button",
    "levelMeter": "progress bar", "settingsButton": "push button", "transcriptView": "text",
    "recordButton": "push button", "copyButton": "push button", "saveButton": "push button",
    "clearButton": "push button",
}
# Roles a person operates: each needs a name of its own.
INTERACTIVE_ROLES = frozenset({"push button", "check box", "combo box", "text", "password text",
                               "progress bar", "toggle button", "radio button", "entry",
                               "spin button"})

T = TypeVar("T")


# --- what the driver reports ---------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    id: str
    name: str
    role: str
    description: str
    states: frozenset[str]
    text: str | None
    value: dict[str, float] | None
    actions: tuple[str, ...]
    relations: dict[str, list[dict[str, str]]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        return cls(
            id=str(data["id"]), name=str(data["name"]), role=str(data["role"]),
            description=str(data["description"]), states=frozenset(data["states"]),
            text=data["text"], value=data["value"],
            actions=tuple(str(a["name"]) for a in data["actions"]),
            relations=dict(data["relations"]),
        )

    @property
    def object_name(self) -> str:
        """Qt puts the objectName at the end of the accessible id (a dotted path)."""
        return self.id.rsplit(".", 1)[-1]

    def has(self, object_name: str) -> bool:
        return self.id.endswith("." + object_name)


@dataclass(frozen=True)
class Snapshot:
    windows: tuple[str, ...]
    nodes: tuple[Node, ...]

    def find(self, object_name: str) -> Node:
        found = [n for n in self.nodes if n.has(object_name)]
        assert len(found) == 1, f"{len(found)} accessibles with an id ending in .{object_name}"
        return found[0]

    def maybe(self, object_name: str) -> Node | None:
        found = [n for n in self.nodes if n.has(object_name)]
        return found[0] if len(found) == 1 else None

    def status_texts(self) -> list[str]:
        return [n.name for n in self.nodes if ".QStatusBar." in n.id and n.role == "label"]


class DriverFailed(Exception):
    """The driver answered ``ok: false`` (e.g. the app is not on the bus yet)."""


class Driver:
    """Runs ``atspi_driver.py`` against one application, one fresh AT-SPI client per call."""

    def __init__(self, env: dict[str, str], app_pid: int | None = None) -> None:
        self.env = env
        self.app_pid = app_pid

    def run(self, *args: str) -> dict[str, Any]:
        target = ["--app", APP_NAME] + (["--pid", str(self.app_pid)] if self.app_pid else [])
        done = subprocess.run([SYSTEM_PYTHON, str(DRIVER), *target, *args], env=self.env,
                              capture_output=True, text=True, timeout=20, check=False)
        try:
            result: dict[str, Any] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise DriverFailed(f"driver exit {done.returncode}: {done.stdout!r} "
                               f"{done.stderr[-2000:]!r}") from None
        if not result.get("ok"):
            raise DriverFailed(str(result.get("error")))
        return result

    def apps(self) -> list[dict[str, Any]]:
        apps: list[dict[str, Any]] = self.run("apps")["apps"]
        return apps

    def snapshot(self) -> Snapshot:
        result = self.run("snapshot")
        return Snapshot(tuple(result["app"]["windows"]),
                        tuple(Node.from_json(n) for n in result["nodes"]))

    def focused(self) -> Node | None:
        node = self.run("focused")["node"]
        return None if node is None else Node.from_json(node)

    def press(self, object_name: str, action: str = "Press", name: str | None = None) -> None:
        named = ["--name", name] if name is not None else []
        assert self.run("press", object_name, "--action", action, *named)["done"], action


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 15.0) -> T:
    """Repeat ``probe`` (each run is a real query, ~0.1-0.3 s) until it returns a value."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
        except (DriverFailed, subprocess.TimeoutExpired) as exc:
            value, last = None, exc
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                                 f"(last driver error: {last})")


def words(text: str) -> str:
    """Lower-case words only: compares transcripts regardless of turn formatting."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


# --- processes -----------------------------------------------------------------------------

def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _wait_exited(pids: Sequence[int], deadline: float) -> None:
    """Block until every pid has exited (pidfd: woken by the exit itself) or the deadline."""
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)


class Child:
    """A process started in its own session, so it and everything it spawns form one process
    group that :meth:`stop` ends (the AT-SPI launcher starts its own dbus-daemon)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path,
                 pass_fds: Sequence[int] = ()) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True, pass_fds=tuple(pass_fds))
        self.pgid = self.popen.pid

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_bytes()[-size:].decode(errors="replace")

    def alive(self) -> list[int]:
        return _group_members(self.pgid)

    def stop(self, grace: float = 5.0) -> list[int]:
        """SIGTERM the group, SIGKILL what is left after ``grace``; returns survivors."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            members = self.alive()
            if not members:
                break
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            if self.popen.returncode is None:
                try:
                    self.popen.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            _wait_exited([p for p in members if p != self.popen.pid], deadline)
        if self.popen.returncode is None:
            try:
                self.popen.wait(1)
            except subprocess.TimeoutExpired:
                pass
        return self.alive()


def _read_line(fd: int, deadline: float, what: str) -> str:
    """One line from a pipe a starting daemon writes to once it is ready."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise RuntimeError(f"{what} did not report ready (got {data!r})")
        data += chunk
    return data.decode().strip()


def _start_reporting(name: str, argv: list[str], env: dict[str, str], log: Path,
                     stack: ExitStack, timeout: float = 10.0) -> tuple[Child, str]:
    """Start a daemon that writes one ready line (display number, bus address) to fd 3+."""
    read_fd, write_fd = os.pipe()
    try:
        child = Child(name, [a.replace("{fd}", str(write_fd)) for a in argv], env, log,
                      pass_fds=[write_fd])
        stack.callback(child.stop)
        os.close(write_fd)
        write_fd = -1
        try:
            line = _read_line(read_fd, time.monotonic() + timeout, name)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; log: {child.log_tail()}") from None
        return child, line
    finally:
        os.close(read_fd)
        if write_fd != -1:
            os.close(write_fd)


# The private session bus: no service directories, so nothing is ever D-Bus-activated behind
# the test's back (no gnome-keyring, no dconf, no second AT-SPI launcher).
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={runtime}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class Desktop:
    """Xvfb + a private session bus + the AT-SPI bus and registry."""

    display: str
    env: dict[str, str]  # what every client of this desktop runs with
    root: Path
    children: list[Child]


def _base_env() -> dict[str, str]:
    dropped = {"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS",
               "XDG_RUNTIME_DIR", "PYTHONPATH", "PYTHONHOME", "ASSEMBLYAI_API_KEY",
               "LIVE_TRANSCRIBER_STREAMING_URL", "QT_QPA_PLATFORM", "XAUTHORITY"}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def _gdbus(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["gdbus", *args], env=env, capture_output=True, text=True,
                          timeout=15, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"gdbus {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def start_desktop(root: Path, stack: ExitStack) -> Desktop:
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    env = _base_env()
    xvfb, display_number = _start_reporting(
        "Xvfb", ["Xvfb", "-displayfd", "{fd}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        env, root / "xvfb.log", stack)
    display = f":{display_number}"
    (root / "bus.conf").write_text(_BUS_CONFIG.format(runtime=runtime))
    bus, bus_address = _start_reporting(
        "dbus-daemon", ["dbus-daemon", f"--config-file={root / 'bus.conf'}", "--nofork",
                        "--nopidfile", "--print-address={fd}"], env, root / "dbus.log", stack)
    env.update({"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": bus_address,
                "XDG_RUNTIME_DIR": str(runtime), "GSETTINGS_BACKEND": "memory"})
    launcher = Child("at-spi-bus-launcher", ["/usr/libexec/at-spi-bus-launcher",
                                             "--launch-immediately"],
                     env, root / "at-spi-bus-launcher.log")
    stack.callback(launcher.stop)
    _gdbus(env, "wait", "--session", "--timeout", "10", "org.a11y.Bus")
    reply = _gdbus(env, "call", "--session", "--dest", "org.a11y.Bus", "--object-path",
                   "/org/a11y/bus", "--method", "org.a11y.Bus.GetAddress")
    match = re.search(r"'([^']+)'", reply)
    assert match, f"no AT-SPI bus address in {reply!r}"
    registry = Child("at-spi2-registryd", ["/usr/libexec/at-spi2-registryd"], env,
                     root / "at-spi2-registryd.log")
    stack.callback(registry.stop)
    _gdbus(env, "wait", "--address", match.group(1), "--timeout", "10",
           "org.a11y.atspi.Registry")
    return Desktop(display, env, root, [xvfb, bus, launcher, registry])


# --- X11: a polite close, as a window manager's close button sends it ------------------------

class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def send_wm_delete_window(display: str, windows: Sequence[int]) -> None:
    """WM_PROTOCOLS/WM_DELETE_WINDOW to each window. (``xdotool windowclose`` in Debian 12's
    xdotool 3.20160805 is XDestroyWindow, which yanks the window from under Qt.)"""
    xlib = ctypes.CDLL("libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                ctypes.POINTER(_XEvent)]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = xlib.XOpenDisplay(display.encode())
    assert connection, f"cannot open X display {display}"
    try:
        for window in windows:
            event = _XEvent()
            event.xclient.type = 33  # ClientMessage
            event.xclient.window = window
            event.xclient.message_type = xlib.XInternAtom(connection, b"WM_PROTOCOLS", 0)
            event.xclient.format = 32
            event.xclient.data[0] = xlib.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
            event.xclient.data[1] = 0  # CurrentTime
            assert xlib.XSendEvent(connection, window, 0, 0, ctypes.byref(event))
        xlib.XFlush(connection)
    finally:
        xlib.XCloseDisplay(connection)


def xdotool(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True,
                          timeout=10, check=True)
    return done.stdout.strip()


def app_windows(env: dict[str, str], *, visible_only: bool) -> list[int]:
    flags = ["--onlyvisible"] if visible_only else []
    done = subprocess.run(["xdotool", "search", *flags, "--name", f"^{WINDOW_TITLE}$"],
                          env=env, capture_output=True, text=True, timeout=10, check=False)
    return [int(line) for line in done.stdout.split()]


# --- the service ---------------------------------------------------------------------------

class SpeechGatedRecognizer:
    """The scripted recogniser, but its clock starts only once the audio carries sound: words
    can appear only if the virtual microphone's speech reached the service."""

    THRESHOLD = 1000  # peak |sample| of s16le audio; the null sink's silence is exactly 0

    def __init__(self, params: SessionParams) -> None:
        self._inner = ScriptedRecognizer(SCRIPT, ms_per_word=80)
        self._bytes_per_ms = params.sample_rate * params.bytes_per_sample // 1000
        self._speech_from_ms: int | None = None
        self.peak = 0

    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        samples = array("h", pcm[: len(pcm) // 2 * 2])
        if sys.byteorder == "big":
            samples.byteswap()
        peak = max((abs(s) for s in samples), default=0)
        self.peak = max(self.peak, peak)
        if self._speech_from_ms is None:
            if peak < self.THRESHOLD:
                return []
            self._speech_from_ms = audio_ms_total - len(pcm) // max(self._bytes_per_ms, 1)
        return self._inner.feed(pcm, audio_ms_total - self._speech_from_ms)

    def force_endpoint(self) -> list[TurnUpdate]:
        return self._inner.force_endpoint()

    def finish(self) -> list[TurnUpdate]:
        return self._inner.finish()


@dataclass
class Service:
    emulator: EmulatorThread
    recognizers: list[SpeechGatedRecognizer]


# --- fixtures ------------------------------------------------------------------------------

@dataclass
class App:
    child: Child
    desktop: Desktop
    driver: Driver
    service: Service
    idle_snapshot: Snapshot | None = None  # one walk shared by the read-only checks


def _require_tools() -> None:
    for tool in ("Xvfb", "dbus-daemon", "gdbus", "xdotool", "xclip",
                 "/usr/libexec/at-spi-bus-launcher", "/usr/libexec/at-spi2-registryd"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run the tests through `make test`")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True,
                           timeout=30, check=False)
    if probe.returncode != 0:
        pytest.fail("python3-pyatspi is not installed: run the tests through `make test`")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, pulse_server: PulseServer) -> Iterator[App]:
    """The app on its own desktop; everything started here is stopped here, failure or not."""
    _require_tools()
    root = tmp_path_factory.mktemp("a11y")
    recognizers: list[SpeechGatedRecognizer] = []

    def recognizer(params: SessionParams) -> SpeechGatedRecognizer:
        recognizers.append(SpeechGatedRecognizer(params))
        return recognizers[-1]

    previous_source = pulse_server.default_source()
    with ExitStack() as stack:
        pulse_server.set_default_source(MIC.monitor)
        stack.callback(pulse_server.set_default_source, previous_source)
        desktop = start_desktop(root, stack)
        emulator = stack.enter_context(EmulatorThread(EmulatorConfig(
            api_keys=frozenset({KEY}), recognizer_factory=recognizer)))
        env = {
            **desktop.env,
            "QT_QPA_PLATFORM": "xcb",
            "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
            "QT_LOGGING_RULES": "qt.accessibility.atspi.warning=false",
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "LIVE_TRANSCRIBER_STREAMING_URL": emulator.url,
            "ASSEMBLYAI_API_KEY": KEY,
            "PULSE_SERVER": pulse_server.env["PULSE_SERVER"],
            "PULSE_RUNTIME_PATH": pulse_server.env["PULSE_RUNTIME_PATH"],
            "PYTHONUNBUFFERED": "1",
        }
        write_unfinished_recording(root / "data" / APP_NAME / "transcripts")
        child = Child("app", [sys.executable, "-m", "app.main"], env, root / "app.log")
        stack.callback(child.stop)
        driver = Driver(desktop.env, child.popen.pid)

        def window_shown() -> Snapshot | None:
            if child.popen.poll() is not None:
                raise AssertionError(f"the app exited ({child.popen.returncode}): "
                                     f"{child.log_tail()}")
            snapshot = driver.snapshot()
            frame = [n for n in snapshot.nodes if n.role == "frame" and n.name == WINDOW_TITLE]
            return snapshot if frame and "showing" in frame[0].states else None

        wait_for(window_shown, "the main window on the accessibility bus", timeout=30)
        yield App(child, desktop, driver, Service(emulator, recognizers))
    left = {c.name: c.alive() for c in [child, *desktop.children] if c.alive()}
    assert not left, f"processes left running after the tests: {left}"


UNFINISHED_WORDS = "notes from before the crash"


def write_unfinished_recording(folder: Path) -> None:
    """A journal without an end record, as a crash leaves it: the window offers to restore it."""
    from datetime import datetime

    from app.core import journal
    from app.core.transcript import TranscriptTurn

    folder.mkdir(parents=True)
    started = datetime(2026, 12, 1, 9, 30)
    turn = TranscriptTurn(0, UNFINISHED_WORDS, (), True, True, 0, 900)
    (folder / f"{started:%Y-%m-%d_%H-%M-%S}{journal.JOURNAL_SUFFIX}").write_text(
        journal.header_line(started, "cloud", "test") + journal.turn_line(turn))


def _snapshot_with(app: App, what: str, predicate: Callable[[Snapshot], bool],
                   timeout: float = 15.0) -> Snapshot:
    last: list[Snapshot] = []

    def probe() -> Snapshot | None:
        snapshot = app.driver.snapshot()
        last[:] = [snapshot]
        return snapshot if predicate(snapshot) else None
    try:
        return wait_for(probe, what, timeout)
    except AssertionError as exc:
        seen = f"status bar {last[0].status_texts()}, windows {last[0].windows}" if last else ""
        raise AssertionError(f"{exc}; {seen}; app log: {app.child.log_tail(1500)}") from None


def _devices_listed(snapshot: Snapshot) -> bool:
    picker = snapshot.find("devicePicker")
    return bool(picker.name) and picker.name != "Input device"


# --- the tests -----------------------------------------------------------------------------

def test_every_main_widget_is_found_by_its_object_name(app: App) -> None:
    snapshot = app.driver.snapshot()
    assert snapshot.windows == (WINDOW_TITLE,)
    for object_name in OBJECT_NAMES:
        node = snapshot.find(object_name)
        assert node.id.startswith("QApplication.MainWindow."), node.id
        assert {"showing", "visible"} <= node.states, (object_name, node.states)
        assert node.role == ROLES.get(object_name, node.role), (object_name, node.role)
    assert snapshot.find("engineStatusText").role == "label"


def test_the_message_bar_reads_the_recovery_offer_and_its_buttons(app: App) -> None:
    snapshot = _snapshot_with(app, "the crash-recovery offer",
                              lambda s: s.maybe("recoveryMessageText") is not None)
    text = snapshot.find("recoveryMessageText")
    assert text.role == "label"
    assert text.name.startswith("The recording from 01 December 2026 at 09:30 did not end")
    assert UNFINISHED_WORDS in text.name
    assert snapshot.find("recoveryMessage").name == "Notice"
    for object_name, name in (("recoveryMessageRestore", "Restore"),
                              ("recoveryMessageDismiss", "Dismiss")):
        button = snapshot.find(object_name)
        assert (button.role, button.name) == ("push button", name)
        assert "Press" in button.actions
    app.driver.press("recoveryMessageDismiss")
    _snapshot_with(app, "the offer to go", lambda s: s.maybe("recoveryMessage") is None)


def test_accessible_names_are_what_a_person_hears(app: App) -> None:
    snapshot = _snapshot_with(app, "the device list", _devices_listed)
    for object_name, name in NAMES.items():
        assert snapshot.find(object_name).name == name, object_name
    widgets = [n for n in snapshot.nodes if n.role != "application"]
    ids = {n.object_name for n in widgets}
    for node in widgets:
        assert "&" not in node.name, f"a mnemonic marker is read aloud: {node.id} {node.name!r}"
        if node.name:
            assert node.name not in ids, f"{node.id} is named by an objectName: {node.name!r}"
        if node.role in INTERACTIVE_ROLES and "showing" in node.states:
            assert node.name.strip(), f"{node.id} ({node.role}) has no accessible name"

    # Qt on Linux names a combo box by its current item (here the virtual microphone) and
    # gives its label through a labelled-by relation, which Orca reads first.
    picker = snapshot.find("devicePicker")
    assert "vspeaker" in picker.name and "(system default)" in picker.name, picker.name
    assert [t["name"] for t in picker.relations.get("labelled-by", [])] == ["Input device:"]
    items = [n for n in snapshot.nodes if n.role == "list item" and ".devicePicker." in n.id]
    assert picker.name in [i.name for i in items]
    assert "Press" in picker.actions

    assert "Press" in snapshot.find("recordButton").actions
    assert snapshot.find("refreshDevicesButton").description == "List the microphones again"
    meter = snapshot.find("levelMeter")
    assert meter.value == {"current": -60.0, "minimum": -60.0, "maximum": 0.0}
    assert meter.description == "silence"
    assert "Ready" in snapshot.status_texts()


# What the buttons show (app/ui/main_window.py). Over AT-SPI the visible text of a widget that
# has an accessible name is unreachable, so it is written down here.


@pytest.mark.parametrize(("object_name", "visible_text"), [
    ("refreshDevicesButton", "Refresh"),
    ("settingsButton", "Se&ttings…"),
    ("copyButton", "&Copy transcript"),
    ("saveButton", "Sa&ve…"),
    ("clearButton", "C&lear"),
])
def test_accessible_name_contains_the_visible_label(app: App, object_name: str,
                                                    visible_text: str) -> None:
    if app.idle_snapshot is None:
        app.idle_snapshot = app.driver.snapshot()
    name = app.idle_snapshot.find(object_name).name
    assert words(visible_text.replace("&", "")) in words(name), (visible_text, name)


def test_engine_indicator_says_where_the_audio_goes_with_the_key_state(app: App) -> None:
    snapshot = _snapshot_with(app, "the key check against the emulator",
                              lambda s: s.find("engineStatusText").name == CLOUD_VALID)
    label = snapshot.find("engineStatusText")
    assert "Audio is sent to AssemblyAI" in label.description
    assert "AssemblyAI accepted the API key." in label.description
    group = snapshot.find("engineStatus")
    assert group.name == CLOUD_VALID  # the same sentence a sighted person reads
    assert group.description == label.description


def test_tab_moves_focus_through_the_main_widgets_in_order(app: App) -> None:
    env = app.desktop.env
    _snapshot_with(app, "the device list", _devices_listed)
    (window,) = app_windows(env, visible_only=True)
    xdotool(env, "windowfocus", "--sync", str(window))

    def focus_other_than(previous: str | None) -> str | None:
        node = app.driver.focused()
        if node is None or node.object_name == previous:
            return None
        return node.object_name

    seen = [wait_for(lambda: focus_other_than(None), "keyboard focus in the window")]
    for _ in TAB_ORDER:
        xdotool(env, "key", "Tab")
        seen.append(wait_for(lambda: focus_other_than(seen[-1]), f"focus to leave {seen[-1]}"))
    xdotool(env, "key", "shift+Tab")
    back = wait_for(lambda: focus_other_than(seen[-1]), "Shift+Tab to move focus back")

    assert seen[0] in TAB_ORDER, seen
    start = TAB_ORDER.index(seen[0])
    expected = [TAB_ORDER[(start + i) % len(TAB_ORDER)] for i in range(len(TAB_ORDER) + 1)]
    assert seen == expected
    assert back == seen[-2]


def test_press_record_transcribes_the_virtual_microphone_and_press_again_stops(
    app: App, pulse_server: PulseServer,
) -> None:
    driver, env = app.driver, app.desktop.env
    _snapshot_with(app, "a valid key", lambda s: s.find("engineStatusText").name == CLOUD_VALID)
    before = app.driver.snapshot().find("recordButton")
    assert before.name == "Start recording" and "checked" not in before.states

    driver.press("recordButton")
    _snapshot_with(app, "the recording to start", lambda s: "Recording" in s.status_texts())
    # One walk reads the widgets one after another: only a walk that starts after the status
    # said "Recording" sees every widget in that state.
    recording = driver.snapshot()
    button = recording.find("recordButton")
    assert button.name == "Stop recording"
    assert "sensitive" not in recording.find("devicePicker").states  # locked while recording

    player = pulse_server.play(HELLO, MIC)  # "speak" into the virtual microphone
    levels: list[float] = []
    try:
        def heard(s: Snapshot) -> bool:
            if player.poll() not in (None, 0):
                stderr = player.stderr.read() if player.stderr else b""
                raise AssertionError(f"paplay failed ({player.returncode}): {stderr!r}")
            value = s.find("levelMeter").value
            levels.append(value["current"] if value else -60.0)
            if max(levels) <= -60.0 and player.poll() is None:
                return False  # the meter must move at least once while the speech plays
            return SENTENCE in words(s.find("transcriptView").text or "")
        spoken = _snapshot_with(app, "the spoken sentence in the transcript", heard, 20)
    finally:
        if player.poll() is None:  # the sentence is in: the rest of the file is not needed
            player.terminate()
        player.wait(timeout=10)
    assert max(levels) > -60.0, "the level meter never moved while the microphone played"
    assert spoken.find("transcriptView").name == "Transcript"

    driver.press("recordButton")
    _snapshot_with(app, "the recording to stop", lambda s: "Ready" in s.status_texts(), 20)
    idle = driver.snapshot()
    assert idle.find("recordButton").name == "Start recording"
    assert "checked" not in idle.find("recordButton").states
    assert "sensitive" in idle.find("devicePicker").states
    transcript = idle.find("transcriptView").text or ""
    assert words(transcript).startswith(SENTENCE)

    (session,) = app.service.emulator.wait_sessions_closed(1, timeout=10)
    assert session.close_code == 1000
    assert session.audio_bytes_received > 0
    assert app.service.recognizers[0].peak > SpeechGatedRecognizer.THRESHOLD

    # Copy transcript, pressed over AT-SPI, puts the finished paragraphs on the clipboard.
    driver.press("copyButton")

    def clipboard() -> str | None:
        done = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=env,
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout if done.returncode == 0 and done.stdout.strip() else None
    copied = wait_for(clipboard, "the transcript on the clipboard")
    assert words(copied).startswith(SENTENCE)


CAPTIONS_TITLE = "Captions"  # the window is read by its accessible name


def test_the_caption_strip_reads_the_newest_words(app: App) -> None:
    env = app.desktop.env
    (window,) = app_windows(env, visible_only=True)
    xdotool(env, "windowfocus", "--sync", str(window))
    xdotool(env, "key", "ctrl+shift+l")  # View → Caption strip
    snapshot = _snapshot_with(app, "the caption strip", lambda s: CAPTIONS_TITLE in s.windows)
    strip = snapshot.find("captionOverlay")
    assert strip.name == "Captions"
    text = snapshot.find("captionText")
    # The strip keeps the newest words: the pane's last paragraph.
    pane = snapshot.find("transcriptView").text or ""
    last = [p for p in pane.split("\n\n") if p.strip()][-1]
    assert words(text.name).endswith(words(last)), (text.name, last)
    xdotool(env, "windowfocus", "--sync", str(window))
    xdotool(env, "key", "ctrl+shift+l")
    _snapshot_with(app, "the caption strip to close", lambda s: s.windows == (WINDOW_TITLE,))


SETTINGS_TITLE = f"Settings — {WINDOW_TITLE}"  # QApplication.applicationDisplayName appended


@pytest.fixture(scope="module")
def settings_dialog(app: App) -> list[Node]:
    """The Settings dialog's accessibles: opened with Press on its button, read, and closed
    again with Press on Cancel (a modal dialog left open would block the main window)."""
    app.driver.press("settingsButton")
    snapshot = _snapshot_with(app, "the Settings dialog", lambda s: SETTINGS_TITLE in s.windows)
    app.driver.press("QPushButton", name="Cancel")
    _snapshot_with(app, "the Settings dialog to close", lambda s: s.windows == (WINDOW_TITLE,))
    return [n for n in snapshot.nodes if n.id.startswith("QApplication.settingsDialog")]


def test_settings_dialog_controls_are_named_and_labelled(settings_dialog: list[Node]) -> None:
    nodes = settings_dialog
    by_name = {n.object_name: n for n in nodes}
    assert nodes[0].role == "dialog" and nodes[0].name == SETTINGS_TITLE
    for node in nodes:
        if node.role in INTERACTIVE_ROLES and "showing" in node.states:
            assert node.name.strip(), f"{node.id} ({node.role}) has no accessible name"
            assert node.name != node.object_name, node.id
    key = by_name["apiKeyEdit"]
    assert key.role == "password text" and key.name == "AssemblyAI API key"
    # The placeholder is read as the description; a key is in use (the environment's).
    assert key.description.startswith("Using ASSEMBLYAI_API_KEY from the environment")
    assert key.text == ""  # the key itself never reaches the field
    assert by_name["showKeyButton"].name == "Show key"
    assert by_name["validateKeyButton"].name == "Validate and save"
    assert by_name["formatTurnsCheck"].name == "Punctuate and format finished sentences"
    # Inside the "Offline engine" group a control is labelled by its label and the group's
    # title; a picker's name over AT-SPI is its current choice.
    for field, label in (("offlineModelPicker", "Model:"), ("languagePicker", "Spoken language:")):
        labels = by_name[field].relations.get("labelled-by", [])
        assert [t["name"] for t in labels] == [label, "Offline engine"], field
    assert by_name["languagePicker"].name == "English"  # the default spoken language
    assert by_name["translateCheck"].name == "Translate to English"
    for field, label in (("regionPicker", "Region:"), ("keytermsEdit", "Key terms:")):
        labels = by_name[field].relations.get("labelled-by", [])
        assert [t["name"] for t in labels] == [label], field


def test_settings_api_key_label_is_the_key_fields_label(settings_dialog: list[Node]) -> None:
    nodes = settings_dialog
    (label,) = [n for n in nodes if n.role == "label" and words(n.name).startswith("api")]
    assert "&" not in label.name, f"the label reads {label.name!r}"
    assert [t["name"] for t in label.relations.get("label-for", [])] == [
        "AssemblyAI API key"]


def test_the_menus_open_from_the_keyboard(app: App) -> None:
    env = app.desktop.env
    (window,) = app_windows(env, visible_only=True)
    xdotool(env, "windowfocus", "--sync", str(window))
    xdotool(env, "key", "alt+f")

    def file_menu(snapshot: Snapshot) -> bool:
        return {"Save", "Quit"} <= {n.name for n in snapshot.nodes if n.role == "menu item"}
    snapshot = _snapshot_with(app, "the File menu", file_menu)
    items = {n.name: n for n in snapshot.nodes if n.role == "menu item"}
    assert {"Save", "Save As…", "Quit", "Preferences…"} <= set(items)
    xdotool(env, "key", "Escape")
    xdotool(env, "key", "Escape")


def test_closing_the_window_quits_the_app(app: App) -> None:
    windows = app_windows(app.desktop.env, visible_only=False)
    assert windows, "no X window titled Live Transcriber"
    send_wm_delete_window(app.desktop.display, windows)
    started = time.monotonic()
    try:
        code = app.child.popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the app was still running 5 s after its window was closed:\n"
                    f"{app.child.log_tail()}")
    assert code == 0, app.child.log_tail()
    assert time.monotonic() - started < 5
    assert app.child.alive() == []

    def gone() -> bool | None:
        return True if not [a for a in Driver(app.desktop.env).apps()
                            if a["pid"] == app.child.popen.pid] else None
    wait_for(gone, "the app to leave the accessibility bus")
