from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ExportError
from app.io.recording.files import write_text_atomic


def test_writes_utf8_and_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    write_text_atomic(target, "Grüße — \ud800 ok\n")
    assert target.read_bytes() == "Grüße — ? ok\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]  # no temporary file left


def test_missing_folder_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"Could not save t\.txt \(No such file or directory\)"):
        write_text_atomic(tmp_path / "gone" / "t.txt", "x")


def test_disk_full_loses_nothing_and_leaves_no_partial_file(tiny_filesystem: Path) -> None:
    target = tiny_filesystem / "transcript.txt"
    target.write_text("the previous save\n")
    with pytest.raises(ExportError) as info:
        write_text_atomic(target, "word " * 40_000)  # 200 kB into 64 KiB
    assert "No space left on device" in str(info.value)
    assert "nothing was lost" in info.value.remedy
    assert target.read_text() == "the previous save\n"  # the old file is intact
    assert [p.name for p in tiny_filesystem.iterdir()] == ["transcript.txt"]
