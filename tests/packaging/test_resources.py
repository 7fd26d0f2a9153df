"""The launcher files in resources/: desktop entry, AppStream metainfo, icon PNGs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtGui import QColor, QImage

from tests.packaging.bundle import ROOT
from tests.packaging.conftest import require
from tests.packaging.desktop import desktop_key

RESOURCES = ROOT / "resources"
ENTRY = RESOURCES / "live-transcriber.desktop"
METAINFO = RESOURCES / "io.github.livetranscriber.LiveTranscriber.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MAKE_ICONS = ROOT / "scripts" / "make_icons.py"


def png(size: int, icons: Path = RESOURCES / "icons") -> Path:
    return icons / "hicolor" / f"{size}x{size}" / "apps" / "live-transcriber.png"


def problems(output: str) -> list[str]:
    """desktop-file-validate's errors and warnings (its hints are advice, not failures)."""
    return [line for line in output.splitlines() if ": error:" in line or ": warning:" in line]


def test_desktop_entry_validates() -> None:
    require("desktop-file-validate")
    done = subprocess.run(["desktop-file-validate", str(ENTRY)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert problems(done.stdout + done.stderr) == []


def test_desktop_entry_validator_rejects_a_broken_entry(tmp_path: Path) -> None:
    """The check above can fail: Version=1.5 is unknown to desktop-file-utils 0.26."""
    require("desktop-file-validate")
    broken = tmp_path / "live-transcriber.desktop"
    broken.write_text(ENTRY.read_text().replace("Version=1.4", "Version=1.5"))
    done = subprocess.run(["desktop-file-validate", str(broken)], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode != 0 and problems(done.stdout + done.stderr)


def test_desktop_entry_names_the_app() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["gui-scripts"]
    assert desktop_key(ENTRY, "Type") == "Application"
    assert desktop_key(ENTRY, "Version") == "1.4"
    assert desktop_key(ENTRY, "Name") == "Live Transcriber"
    assert desktop_key(ENTRY, "GenericName") == "Speech Transcriber"
    assert desktop_key(ENTRY, "Exec") in scripts  # the command pip/pipx install
    assert desktop_key(ENTRY, "Icon") == "live-transcriber"
    assert desktop_key(ENTRY, "Terminal") == "false"
    assert desktop_key(ENTRY, "Categories") == "AudioVideo;Audio;Utility;"
    assert desktop_key(ENTRY, "Keywords") == "speech;transcription;captions;dictation;subtitles;"
    assert desktop_key(ENTRY, "StartupNotify") == "true"
    # The WM_CLASS class Qt gives the window is the application name; test_install checks
    # the real window's WM_CLASS against this value under Xvfb.
    assert desktop_key(ENTRY, "StartupWMClass") == "live-transcriber"


def test_metainfo_validates() -> None:
    require("appstreamcli")
    done = subprocess.run(["appstreamcli", "validate", "--no-net", "--no-color", str(METAINFO)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    flagged = [line for line in done.stdout.splitlines() if line.startswith(("E:", "W:"))]
    assert flagged == []


def test_metainfo_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    require("appstreamcli")
    broken = tmp_path / METAINFO.name
    broken.write_text(METAINFO.read_text().replace("<summary>", "<summary>.").replace(
        "<metadata_license>CC0-1.0</metadata_license>", ""))
    done = subprocess.run(["appstreamcli", "validate", "--no-net", "--no-color", str(broken)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0


def test_metainfo_points_at_the_desktop_entry_and_command() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("launchable") == ENTRY.name
    assert root.findtext("provides/binary") == desktop_key(ENTRY, "Exec")
    assert root.findtext("name") == desktop_key(ENTRY, "Name")


def argb(image: QImage) -> npt.NDArray[np.uint8]:
    """Height x width x (B, G, R, A) bytes of ``image`` (ARGB32 on a little-endian machine)."""
    converted = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(converted.constBits(), dtype=np.uint8,
                         count=converted.sizeInBytes()).reshape(converted.height(), -1)
    return rows[:, : converted.width() * 4].reshape(converted.height(), converted.width(), 4)


@pytest.mark.parametrize("size", SIZES)
def test_icon_png_has_its_size_and_artwork(size: int) -> None:
    image = QImage(str(png(size)))
    assert not image.isNull(), f"{png(size)} is missing or unreadable"
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()
    assert sys.byteorder == "little"
    pixels = argb(image).astype(np.int16)
    blue, green, red, alpha = (pixels[..., i] for i in range(4))
    assert alpha[0, 0] == 0, "the corners are outside the rounded tile: transparent"
    assert alpha[size // 2, size // 2] == 255
    opaque = alpha == 255
    tile = opaque & (blue > red + 60)  # the blue background
    ink = opaque & (np.minimum(np.minimum(red, green), blue) > 230)  # microphone and lines
    assert tile.sum() > size * size // 3, "the blue tile covers most of the icon"
    assert ink.sum() > size * size // 30, "the white microphone and lines are drawn"


def test_icon_pngs_match_the_svg() -> None:
    done = subprocess.run([sys.executable, str(MAKE_ICONS), "--check"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_icon_check_notices_a_stale_png(tmp_path: Path) -> None:
    icons = tmp_path / "icons"
    shutil.copytree(RESOURCES / "icons", icons)
    stale = QImage(str(png(48, icons)))
    for x in range(10, 30):
        stale.setPixelColor(x, 24, QColor("red"))
    assert stale.save(str(png(48, icons)))
    png(16, icons).unlink()
    done = subprocess.run([sys.executable, str(MAKE_ICONS), "--check", "--icons", str(icons)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "48x48" in done.stderr and "differs" in done.stderr
    assert "16x16" in done.stderr and "missing" in done.stderr
