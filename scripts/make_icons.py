"""Render the app icon (resources/live-transcriber.svg) to the PNG sizes of the hicolor theme.

    .venv/bin/python scripts/make_icons.py           # (re)write resources/icons/hicolor/...
    .venv/bin/python scripts/make_icons.py --check   # exit 1 if a PNG is missing or stale

Qt's own SVG renderer draws them (offscreen, no display and no extra package). The PNGs are
committed: install scripts, the bundle and desktop environments that do not read SVG use them.
Run it after every change to the SVG; the packaging tests run ``--check``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QRectF
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "live-transcriber.svg"
ICONS = ROOT / "resources" / "icons"
NAME = "live-transcriber"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# Per-channel difference still counted as "the same picture": anti-aliasing may move by a
# unit or two between Qt patch releases without the icon changing.
TOLERANCE = 3


def png_path(size: int, icons: Path = ICONS) -> Path:
    return icons / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png"


def _ensure_qt() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if QGuiApplication.instance() is None:
        QGuiApplication([sys.argv[0]])  # kept alive by Qt as the process's instance


def render(size: int, svg: Path = SVG) -> QImage:
    """The icon at ``size`` x ``size`` pixels, transparent outside the artwork."""
    _ensure_qt()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG file Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
    finally:
        painter.end()
    return image


def pixels(image: QImage) -> npt.NDArray[np.uint8]:
    """The image as a height x width x 4 array of 8-bit channels (ARGB32, row padding cut)."""
    argb = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(argb.constBits(), dtype=np.uint8, count=argb.sizeInBytes())
    rows = rows.reshape(argb.height(), argb.bytesPerLine())
    return rows[:, : argb.width() * 4].reshape(argb.height(), argb.width(), 4).copy()


def max_difference(a: QImage, b: QImage) -> int:
    """The largest per-channel difference between two images (255 if the sizes differ)."""
    if a.size() != b.size():
        return 255
    diff = np.abs(pixels(a).astype(np.int16) - pixels(b).astype(np.int16))
    return int(diff.max(initial=0))


def write_all(icons: Path = ICONS) -> list[Path]:
    written = []
    for size in SIZES:
        path = png_path(size, icons)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(path), b"PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written


def stale(icons: Path = ICONS) -> list[str]:
    """One line per PNG that is missing or no longer matches the SVG."""
    problems = []
    for size in SIZES:
        path = png_path(size, icons)
        committed = QImage(str(path))
        if committed.isNull():
            problems.append(f"{path}: missing or unreadable")
            continue
        difference = max_difference(committed, render(size))
        if difference > TOLERANCE:
            problems.append(f"{path}: differs from the SVG (max channel difference {difference})")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="only compare the committed PNGs with a fresh render")
    parser.add_argument("--icons", type=Path, default=ICONS,
                        help="the icon tree to write or check (default: resources/icons)")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.icons)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run: .venv/bin/python scripts/make_icons.py", file=sys.stderr)
        return 1 if problems else 0
    for path in write_all(args.icons):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
