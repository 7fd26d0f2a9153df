"""``app.selftest`` from the source tree: the real window, devices, keyring and model."""

from __future__ import annotations

import io

import pytest
from PySide6.QtWidgets import QApplication

import app.selftest as selftest
import app.ui.app_window as app_window
from tests.packaging.bundle import ROOT
from tests.packaging.report import CHECK_NAMES, parse_report
from tests.support.pulse import PulseServer
from tests.support.secret_service import SecretServiceSession


def test_self_test_passes_from_source(qapp: QApplication, pulse_server: PulseServer,
                                      secret_service: SecretServiceSession) -> None:
    """With a sound server and a Secret Service around, every check is ok. (``qapp``: the
    suite's QApplication, which the self-test uses when one exists.)"""
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0, out.getvalue()
    report = parse_report(out.getvalue())
    assert tuple(report) == CHECK_NAMES, out.getvalue()
    assert {name: line.status for name, line in report.items()} == dict.fromkeys(CHECK_NAMES,
                                                                                 "ok")
    assert f"from source {ROOT / 'app'}" in report["install"].detail
    assert "platform plugin 'offscreen'" in report["qt"].detail
    assert "'Live Transcriber' built, shown" in report["window"].detail
    assert "the sound server" in report["devices"].detail
    assert "default: Sound from vspeaker" in report["devices"].detail
    assert "system keyring (SecretService" in report["keyring"].detail
    assert out.getvalue().splitlines()[-1].startswith("self-test passed: 8 checks, 0 failed")


def test_a_failing_check_fails_the_self_test(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> selftest.Outcome:
        raise OSError("libportaudio.so.2: cannot open shared object file")

    monkeypatch.setattr(selftest, "CHECKS", (("install", selftest.check_install),
                                             ("audio", broken)))
    out = io.StringIO()
    assert selftest.run_self_test(out) == 1
    report = parse_report(out.getvalue())
    assert report["install"].status == "ok"
    assert report["audio"].status == "FAIL"
    assert "OSError: libportaudio.so.2" in report["audio"].detail
    assert "self-test FAILED: 2 checks, 1 failed" in out.getvalue()


def test_a_missing_icon_in_the_source_tree_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_window, "ICON", ROOT / "resources" / "no-such-icon.svg")
    status, detail = selftest.check_resources()
    assert status == "FAIL" and "no-such-icon.svg" in detail


def test_warnings_do_not_fail_the_self_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "CHECKS", (("devices", lambda: ("warn", "no microphone")),))
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0
    assert parse_report(out.getvalue())["devices"].status == "warn"


@pytest.mark.parametrize(("env", "system", "expected"), [
    ({}, "linux", "offscreen"),
    ({"DISPLAY": ":0"}, "linux", "xcb;offscreen"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", "wayland;xcb;offscreen"),
    ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, "linux", None),
    ({}, "win32", None),
    ({}, "darwin", None),
])
def test_platform_plugin_choice(env: dict[str, str], system: str, expected: str | None) -> None:
    assert selftest.platform_plugins(env, system) == expected
