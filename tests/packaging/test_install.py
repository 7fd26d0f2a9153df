"""install.sh / uninstall.sh with the real bundle, and a launch through the installed desktop
entry (``gio launch``) on a private Xvfb, as a double-click in the app menu does."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.packaging.bundle import ROOT, Bundle
from tests.packaging.conftest import clean_env, require
from tests.packaging.desktop import (
    MapWatcher,
    XServer,
    desktop_env,
    desktop_key,
    launch_desktop_entry,
    request_close,
    visible_windows,
    window_pid,
    wm_class,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

INSTALL = ROOT / "packaging" / "install.sh"
UNINSTALL = ROOT / "packaging" / "uninstall.sh"
NAME = "live-transcriber"
SIZES = ("16x16", "24x24", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512")


def sh(script: Path, *args: str, env: dict[str, str], check: bool = True
       ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{script.name} {' '.join(args)} failed:\n{done.stderr}")
    return done


def tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` with what it is: a symlink's target, a file's size, "dir"."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[key] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[key] = "dir"
        else:
            found[key] = f"{path.stat().st_size} bytes, mode {path.stat().st_mode & 0o777:o}"
    return found


def test_install_then_launch_from_the_desktop_entry(bundle: Bundle, x_server: XServer,
                                                    tmp_path: Path) -> None:
    require("desktop-file-validate")
    # A space in the home folder: the installed entry's Exec line must quote the path.
    env = desktop_env(tmp_path / "a desktop", x_server.display)
    home = Path(env["HOME"])
    sh(INSTALL, "--bundle", str(bundle.folder), env=env)  # the default: per user, in ~/.local

    program = home / ".local" / "lib" / NAME / NAME
    entry = home / ".local" / "share" / "applications" / f"{NAME}.desktop"
    assert os.access(program, os.X_OK)
    assert (home / ".local" / "bin" / NAME).resolve() == program.resolve()
    assert desktop_key(entry, "Exec") == f'"{program}"'
    assert desktop_key(entry, "TryExec") == str(program)
    icons = home / ".local" / "share" / "icons" / "hicolor"
    for size in SIZES:
        assert (icons / size / "apps" / f"{NAME}.png").is_file()
    assert (icons / "scalable" / "apps" / f"{NAME}.svg").is_file()
    validated = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                               text=True, timeout=30, check=False)
    assert validated.returncode == 0, validated.stdout

    with MapWatcher(x_server.display) as watcher:
        started = time.perf_counter()
        launched = launch_desktop_entry(entry, env, cwd=tmp_path)
        try:
            window = watcher.wait_mapped(timeout=30)
            shown_after = time.perf_counter() - started
            pid = window_pid(env, window)
            assert Path(f"/proc/{pid}/exe").resolve() == program.resolve()
            assert wm_class(env, window) == (NAME, desktop_key(entry, "StartupWMClass"))
            request_close(x_server.display, window)
            exits = launched.exits(timeout=30)
        finally:
            launched.kill()
    print(f"\nwindow mapped {shown_after:.2f} s after gio launch")
    assert exits.get(pid) == 0, f"the app did not exit cleanly: {exits}"
    assert visible_windows(env) == []

    installed = [line.split(" ", 1)[1] for line in
                 (program.parent / "INSTALLED").read_text().splitlines()[1:]]
    sh(UNINSTALL, env=env)
    assert not program.parent.exists()
    assert [path for path in installed if Path(path).exists()] == []
    assert not (home / ".local" / "share" / "icons").exists()  # install.sh created it


def test_reinstall_is_idempotent_and_uninstall_removes_everything(bundle: Bundle,
                                                                  tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    (prefix / "share" / "applications").mkdir(parents=True)
    theirs = prefix / "share" / "applications" / "someone-else.desktop"
    theirs.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    before = tree(prefix)
    env = clean_env(tmp_path / "home")

    sh(INSTALL, "--prefix", str(prefix), "--bundle", str(bundle.folder), env=env)
    first = tree(prefix)
    assert first[f"bin/{NAME}"] == f"-> {prefix}/lib/{NAME}/{NAME}"
    assert "share/metainfo/io.github.livetranscriber.LiveTranscriber.metainfo.xml" in first
    sh(INSTALL, "--prefix", str(prefix), "--bundle", str(bundle.folder), env=env)
    assert tree(prefix) == first

    sh(UNINSTALL, "--prefix", str(prefix), env=env)
    assert tree(prefix) == before  # what was there before stays, nothing of ours is left
    again = sh(UNINSTALL, "--prefix", str(prefix), env=env)
    assert "nothing to do" in again.stdout


def test_system_layout_staged_with_destdir(bundle: Bundle, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    env = clean_env(tmp_path / "home")
    sh(INSTALL, "--system", "--destdir", str(stage), "--bundle", str(bundle.folder), env=env)
    installed = tree(stage)
    assert installed[f"usr/local/bin/{NAME}"] == f"-> /opt/{NAME}/{NAME}"
    assert f"opt/{NAME}/{NAME}" in installed
    entry = stage / "usr" / "share" / "applications" / f"{NAME}.desktop"
    assert desktop_key(entry, "Exec") == f"/opt/{NAME}/{NAME}"
    for size in SIZES:
        assert f"usr/share/icons/hicolor/{size}/apps/{NAME}.png" in installed
    sh(UNINSTALL, "--system", "--destdir", str(stage), env=env)
    assert tree(stage) == {}


def test_install_leaves_a_foreign_command_alone(tmp_path: Path) -> None:
    """A live-transcriber that pipx put on PATH is not overwritten without --force; and
    nothing is installed when install.sh refuses."""
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    pipx_command = prefix / "bin" / NAME
    pipx_command.write_text("#!/bin/sh\nexit 0\n")
    fake_bundle = tmp_path / "bundle"  # the check comes before any copying: a stub will do
    (fake_bundle / "_internal" / "resources").mkdir(parents=True)
    (fake_bundle / NAME).write_text("#!/bin/sh\n")
    (fake_bundle / NAME).chmod(0o755)
    done = sh(INSTALL, "--prefix", str(prefix), "--bundle", str(fake_bundle),
              env=clean_env(tmp_path / "home"), check=False)
    assert done.returncode != 0
    assert "not this install's" in done.stderr
    assert pipx_command.read_text() == "#!/bin/sh\nexit 0\n"
    assert sorted(tree(prefix)) == ["bin", f"bin/{NAME}"]


def test_shell_scripts_pass_shellcheck() -> None:
    require("shellcheck")
    done = subprocess.run(["shellcheck", "--severity=style", str(INSTALL), str(UNINSTALL)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


def test_install_refuses_a_missing_bundle(tmp_path: Path) -> None:
    done = sh(INSTALL, "--prefix", str(tmp_path / "prefix"), "--bundle",
              str(tmp_path / "nothing"), env=clean_env(tmp_path / "home"), check=False)
    assert done.returncode != 0 and "no bundle at" in done.stderr
    assert not (tmp_path / "prefix").exists()
    assert shutil.which("bash")
