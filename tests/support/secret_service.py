"""A real OS keyring for tests: gnome-keyring's Secret Service in a private D-Bus session.

Recipe from shared/CI-RECIPES.md: a private session bus, a throwaway ``XDG_DATA_HOME`` so a new
login keyring is created for this run, and ``gnome-keyring-daemon --unlock`` fed a non-empty
password on stdin (an empty one leaves no login keyring and every use fails with "Prompt
dismissed"). ``gdbus wait`` returns as soon as the Secret Service name is owned.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class SecretServiceSession:
    bus_address: str
    data_home: Path

    def lock_login_keyring(self) -> None:
        """Lock the login collection, as the desktop does on screen lock or after a timeout.
        Unlocking it again needs a prompt, which has no display here: use a private instance
        (:func:`private_secret_service`) for a test that locks."""
        self._gdbus("--object-path", "/org/freedesktop/secrets",
                    "--method", "org.freedesktop.Secret.Service.Lock",
                    "['/org/freedesktop/secrets/collection/login']")

    def login_keyring_locked(self) -> bool:
        answer = self._gdbus("--object-path", "/org/freedesktop/secrets/collection/login",
                             "--method", "org.freedesktop.DBus.Properties.Get",
                             "org.freedesktop.Secret.Collection", "Locked")
        return answer == "(<true>,)"

    def _gdbus(self, *args: str) -> str:
        done = subprocess.run(
            ["gdbus", "call", "--session", "--dest", "org.freedesktop.secrets", *args],
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.bus_address},
            check=True, capture_output=True, text=True, timeout=10,
        )
        return done.stdout.strip()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


@contextmanager
def private_secret_service() -> Iterator[SecretServiceSession]:
    """Start dbus-daemon + gnome-keyring and point this process at them until the block ends
    (the previous bus address and data folder are restored)."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "gdbus"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run the tests through `make test`")
    root = Path(tempfile.mkdtemp(prefix="lt-keyring-"))
    data_home = root / "data"
    data_home.mkdir()
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1",
         "--nopidfile"],
        check=True, capture_output=True, text=True, timeout=10,
    )
    address, pid_text = bus.stdout.split()[:2]
    bus_pid = int(pid_text)
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_DATA_HOME": str(data_home)}
    keyring_daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    assert keyring_daemon.stdin is not None
    keyring_daemon.stdin.write(b"live-transcriber-test-password\n")
    keyring_daemon.stdin.close()
    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME")}
    try:
        subprocess.run(["gdbus", "wait", "--session", "--timeout", "10",
                        "org.freedesktop.secrets"], env=env, check=True, timeout=15)
        os.environ.update({"DBUS_SESSION_BUS_ADDRESS": address, "XDG_DATA_HOME": str(data_home)})
        yield SecretServiceSession(address, data_home)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        keyring_daemon.terminate()
        try:
            keyring_daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            keyring_daemon.kill()
        _kill(bus_pid)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def secret_service() -> Iterator[SecretServiceSession]:
    """One Secret Service for the test session; this process is pointed at it throughout."""
    with private_secret_service() as session:
        yield session
