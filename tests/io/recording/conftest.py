"""Fixtures for the recording tests: a real, tiny file system to fill."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs, so ENOSPC comes from the kernel, not from a mock (needs root)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                              str(mount_point)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        # Lazily if a failed test left a file open there: the mount must never outlive it.
        if subprocess.run(["umount", str(mount_point)], capture_output=True,
                          check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)
