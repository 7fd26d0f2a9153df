"""The Windows and macOS recipes cannot run here; what can be checked is that they name the
same app, executable and bundle as the Linux build that is tested."""

from __future__ import annotations

import plistlib
import re
import xml.etree.ElementTree as ET

from tests.packaging.bundle import ROOT, SPEC

PACKAGING = ROOT / "packaging"
METAINFO = ROOT / "resources" / "io.github.livetranscriber.LiveTranscriber.metainfo.xml"


def app_id() -> str:
    found = ET.parse(METAINFO).getroot().findtext("id")
    assert found
    return found


def spec_name() -> str:
    match = re.search(r'^NAME = "([^"]+)"$', SPEC.read_text(), re.MULTILINE)
    assert match
    return match.group(1)


def test_macos_info_plist_asks_for_the_microphone() -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as handle:
        info = plistlib.load(handle)
    assert info["CFBundleIdentifier"] == app_id()
    assert info["CFBundleName"] == "Live Transcriber"
    assert len(info["NSMicrophoneUsageDescription"]) > 20
    with (PACKAGING / "macos" / "entitlements.plist").open("rb") as handle:
        entitlements = plistlib.load(handle)
    assert entitlements["com.apple.security.device.audio-input"] is True


def test_inno_setup_script_installs_the_bundle_the_spec_builds() -> None:
    script = (PACKAGING / "windows" / "live-transcriber.iss").read_text()
    defines = dict(re.findall(r'^\s*#define (\w+) "([^"]*)"', script, re.MULTILINE))
    assert defines["AppExe"] == f"{spec_name()}.exe"
    bundle = (PACKAGING / "windows" / defines["Bundle"].replace("\\", "/")).resolve()
    assert bundle == ROOT / "dist" / spec_name()
    assert f'AppUserModelID: "{app_id()}"' in script
    assert re.search(r"^AppId=\{\{[0-9A-F-]{36}\}$", script, re.MULTILINE)
