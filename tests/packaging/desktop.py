"""A throwaway X desktop for launcher tests and the launch benchmark.

* :func:`start_xvfb` — a private Xvfb on a free display (``-displayfd``: the server picks it).
* :func:`desktop_env` — the environment an app gets when a desktop starts it: display, a home
  and XDG folders in a temporary directory, a UTF-8 locale, no ``PYTHONPATH``, and a session-bus
  address nothing listens on (so nothing D-Bus-autolaunches a bus that outlives the test).
* :func:`launch_desktop_entry` — ``gio launch FILE.desktop`` under ``reaper.py``, which adopts
  the app once gio exits and reports its exit status.
* :class:`MapWatcher` — the moment a window with the app's title is mapped (X events).
* :func:`wm_class`, :func:`window_pid`, :func:`visible_windows` — xprop/xdotool queries.
* :func:`request_close` — WM_DELETE_WINDOW, what a window manager's close button sends
  (Debian 12's ``xdotool windowclose`` destroys the window under Qt's feet instead).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WINDOW_TITLE = "Live Transcriber"
REAPER = Path(__file__).with_name("reaper.py")
TOOLS = ("Xvfb", "xdotool", "xprop", "gio")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@dataclass
class XServer:
    display: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_xvfb(log: Path, timeout: float = 15.0) -> XServer:
    """Xvfb on a display it chooses itself; returns once it accepts clients."""
    read_end, write_end = os.pipe()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            # -noreset: by default the server resets whenever its last client leaves, and a
            # client connecting during the reset is refused (seen between benchmark runs).
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_end,), stdout=log_file, stderr=subprocess.STDOUT)
    os.close(write_end)
    try:
        text = b""
        deadline = time.monotonic() + timeout
        while not text.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([read_end], [], [], max(remaining, 0))
            chunk = os.read(read_end, 64) if ready else b""
            if not chunk:
                process.kill()
                process.wait(timeout=10)
                raise RuntimeError(f"Xvfb did not report a display: {log.read_text()[-2000:]}")
            text += chunk
    finally:
        os.close(read_end)
    return XServer(f":{int(text)}", process)


@contextmanager
def xvfb(log: Path) -> Iterator[XServer]:
    server = start_xvfb(log)
    try:
        yield server
    finally:
        server.stop()


def desktop_env(root: Path, display: str, base: Mapping[str, str] | None = None
                ) -> dict[str, str]:
    """A login-like environment under ``root`` (created): HOME, XDG folders, display."""
    base = os.environ if base is None else base
    home = root / "home"
    runtime = root / "runtime"
    for folder in (home, runtime):
        folder.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = {key: base[key] for key in ("PATH", "TMPDIR") if key in base}
    env.update({
        "HOME": str(home),
        "DISPLAY": display,
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(runtime),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime / 'no-session-bus'}",
    })
    return env


@dataclass
class Launched:
    """A launch through ``reaper.py``; :meth:`exits` gives every adopted process's status."""

    reaper: subprocess.Popen[str]

    def exits(self, timeout: float) -> dict[int, int]:
        out, err = self.reaper.communicate(timeout=timeout)
        if self.reaper.returncode != 0:
            raise RuntimeError(f"reaper failed ({self.reaper.returncode}): {err}")
        return {int(row["pid"]): int(row["exit"])
                for row in map(json.loads, out.splitlines())}

    def kill(self) -> None:
        """Last-resort clean-up: the reaper and whatever it still holds."""
        if self.reaper.poll() is None:
            for pid in _descendants(self.reaper.pid):
                _signal(pid, 9)
            self.reaper.kill()
            self.reaper.communicate(timeout=10)


def launch(command: list[str], env: Mapping[str, str], cwd: Path) -> Launched:
    reaper = subprocess.Popen([sys.executable, str(REAPER), *command], env=dict(env), cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return Launched(reaper)


def launch_desktop_entry(entry: Path, env: Mapping[str, str], cwd: Path) -> Launched:
    return launch(["gio", "launch", str(entry)], env, cwd)


def _descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        direct = [int(p) for p in children.read_text().split()]
    except OSError:
        return []
    found: list[int] = []
    for child in direct:
        found += [child, *_descendants(child)]
    return found


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _xdotool(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xdotool", *args], env=dict(env), capture_output=True, text=True,
                          timeout=10, check=False)


def visible_windows(env: Mapping[str, str], title: str = WINDOW_TITLE) -> list[int]:
    done = _xdotool(env, "search", "--onlyvisible", "--name", f"^{re.escape(title)}$")
    return [int(w) for w in done.stdout.split()]  # exit status 1 just means "none"


def wm_class(env: Mapping[str, str], window: int) -> tuple[str, str]:
    """WM_CLASS as (instance, class)."""
    done = subprocess.run(["xprop", "-id", str(window), "WM_CLASS"], env=dict(env),
                          capture_output=True, text=True, timeout=10, check=True)
    found = re.findall(r'"([^"]*)"', done.stdout)
    if len(found) != 2:
        raise ValueError(f"unexpected WM_CLASS: {done.stdout!r}")
    return found[0], found[1]


def window_pid(env: Mapping[str, str], window: int) -> int:
    done = _xdotool(env, "getwindowpid", str(window))
    if done.returncode != 0:
        raise RuntimeError(f"window {window} has no _NET_WM_PID: {done.stderr}")
    return int(done.stdout)


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XMapEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("event", ctypes.c_ulong), ("window", ctypes.c_ulong),
                ("override_redirect", ctypes.c_int)]


class _XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xclient", _XClientMessageEvent),
                ("xmap", _XMapEvent), ("pad", ctypes.c_long * 24)]


_CLIENT_MESSAGE = 33
_MAP_NOTIFY = 19
_SUBSTRUCTURE_NOTIFY_MASK = 1 << 19
_ErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _ignore_x_error(display: int | None, event: int | None) -> int:
    return 0  # e.g. BadWindow for a window that vanished between its event and our query


_IGNORE_X_ERROR = _ErrorHandler(_ignore_x_error)


def _xlib() -> ctypes.CDLL:
    xlib = ctypes.CDLL("libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XConnectionNumber.argtypes = [ctypes.c_void_p]
    xlib.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
    xlib.XPending.argtypes = [ctypes.c_void_p]
    xlib.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(_XEvent)]
    xlib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                ctypes.POINTER(ctypes.c_void_p)]
    xlib.XFree.argtypes = [ctypes.c_void_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                ctypes.POINTER(_XEvent)]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XSetErrorHandler.argtypes = [_ErrorHandler]
    xlib.XSetErrorHandler.restype = ctypes.c_void_p
    xlib.XSetErrorHandler(_IGNORE_X_ERROR)
    return xlib


class MapWatcher:
    """Watches the X server for top-level windows being mapped (shown).

    Subscribes to the root window's SubstructureNotify events when created, so a window mapped
    any time after that — create the watcher before launching the app — is seen the moment the
    server maps it: no polling, and a precise clock for the launch benchmark. Without a window
    manager (Xvfb) a top-level window is a direct child of the root.
    """

    def __init__(self, display: str) -> None:
        self._xlib = _xlib()
        connection = self._xlib.XOpenDisplay(display.encode())
        if not connection:
            raise RuntimeError(f"cannot open X display {display}")
        self._connection: int = connection
        root = self._xlib.XDefaultRootWindow(connection)
        self._xlib.XSelectInput(connection, root, _SUBSTRUCTURE_NOTIFY_MASK)
        self._xlib.XFlush(connection)

    def close(self) -> None:
        self._xlib.XCloseDisplay(self._connection)

    def __enter__(self) -> MapWatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _name(self, window: int) -> str | None:
        name = ctypes.c_void_p()
        if not self._xlib.XFetchName(self._connection, window, ctypes.byref(name)) or \
                not name.value:
            return None
        try:
            return ctypes.string_at(name.value).decode("latin-1")
        finally:
            self._xlib.XFree(name)

    def wait_mapped(self, title: str = WINDOW_TITLE, timeout: float = 20.0) -> int:
        """The id of the next window titled ``title`` to be mapped; TimeoutError if none is
        within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        event = _XEvent()
        fd = self._xlib.XConnectionNumber(self._connection)
        while True:
            while self._xlib.XPending(self._connection):
                self._xlib.XNextEvent(self._connection, ctypes.byref(event))
                if event.type == _MAP_NOTIFY and self._name(event.xmap.window) == title:
                    return int(event.xmap.window)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no window titled {title!r} was mapped within {timeout} s")
            select.select([fd], [], [], remaining)


def request_close(display: str, window: int) -> None:
    """Send WM_PROTOCOLS / WM_DELETE_WINDOW to ``window``, as a close button does."""
    xlib = _xlib()
    connection = xlib.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        event = _XEvent()
        event.xclient.type = _CLIENT_MESSAGE
        event.xclient.window = window
        event.xclient.message_type = xlib.XInternAtom(connection, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = xlib.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        if not xlib.XSendEvent(connection, window, 0, 0, ctypes.byref(event)):
            raise RuntimeError("XSendEvent failed")
        xlib.XFlush(connection)
    finally:
        xlib.XCloseDisplay(connection)


def desktop_key(entry: Path, key: str) -> str:
    """The value of ``key`` in the [Desktop Entry] group of ``entry``."""
    group = ""
    for line in entry.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            group = line.strip()
        elif group == "[Desktop Entry]" and line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise KeyError(f"{key} not in {entry}")
