"""Strip the bundle's shared libraries, and keep the original of any the loader would reject.

Loaded by ``live-transcriber.spec`` (and by ``tests/packaging``) from its file: this folder is
not a Python package, and ``packaging`` is also the name of a library on PyPI.

Why not PyInstaller's own ``strip=True``: it runs ``strip`` on every binary and keeps the result
whatever it is. Wheels repaired by auditwheel have been rewritten by patchelf, and ``strip``
(GNU binutils 2.40) lays some of those files out again wrongly: numpy's OpenBLAS and gfortran
come out with a load segment whose file offset and address disagree modulo the page size, and
``import numpy`` fails with "ELF load command address/offset not page-aligned". Here each
stripped copy is read back and used only if its load segments are aligned as the loader
requires and it names the same needed libraries and soname as the original; otherwise the
original goes in unchanged.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_SONAME = 0, 1, 5, 14
SECTION_NAMES_WORTH_STRIPPING = (b".symtab", b".debug_")


@dataclass(frozen=True)
class Segment:
    kind: int
    offset: int
    address: int
    file_size: int
    align: int


@dataclass(frozen=True)
class ElfFile:
    """What the dynamic loader reads from a 64-bit little-endian ELF shared object."""

    segments: tuple[Segment, ...]
    needed: tuple[str, ...]  # DT_NEEDED, in order
    soname: str | None
    section_names: tuple[bytes, ...]

    @property
    def aligned(self) -> bool:
        """Every load segment's offset and address agree modulo its alignment (glibc refuses
        to map the file otherwise)."""
        return all(s.offset % s.align == s.address % s.align
                   for s in self.segments if s.kind == PT_LOAD and s.align > 1)

    @property
    def worth_stripping(self) -> bool:
        return any(name.startswith(SECTION_NAMES_WORTH_STRIPPING) for name in self.section_names)


def read_elf(data: bytes) -> ElfFile | None:
    """The loader's view of ``data``, or None if it is not an ELF64 little-endian file this
    parser understands (such a file is never stripped)."""
    if data[:4] != ELF_MAGIC or data[4] != 2 or data[5] != 1:
        return None
    try:
        return _read_elf64(data)
    except (struct.error, IndexError, UnicodeDecodeError):
        return None


def _read_elf64(data: bytes) -> ElfFile:
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
    segments = []
    for index in range(phnum):
        kind, _flags, offset, address, _physical, file_size, _memory_size, align = (
            struct.unpack_from("<IIQQQQQQ", data, phoff + index * phentsize))
        segments.append(Segment(kind, offset, address, file_size, align))
    needed, soname = _dynamic_names(data, segments)
    return ElfFile(tuple(segments), tuple(needed), soname,
                   _section_names(data, shoff, shentsize, shnum, shstrndx))


def _file_offset(segments: list[Segment], address: int) -> int:
    for s in segments:
        if s.kind == PT_LOAD and s.address <= address < s.address + s.file_size:
            return s.offset + address - s.address
    raise IndexError(f"address {address:#x} is in no load segment")


def _dynamic_names(data: bytes, segments: list[Segment]) -> tuple[list[str], str | None]:
    dynamic = next((s for s in segments if s.kind == PT_DYNAMIC), None)
    if dynamic is None:
        return [], None
    entries: list[tuple[int, int]] = []
    for position in range(dynamic.offset, dynamic.offset + dynamic.file_size, 16):
        tag, value = struct.unpack_from("<qQ", data, position)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab = _file_offset(segments, next(v for t, v in entries if t == DT_STRTAB))

    def string(at: int) -> str:
        start = strtab + at
        return data[start:data.index(b"\0", start)].decode()

    needed = [string(v) for t, v in entries if t == DT_NEEDED]
    soname = next((string(v) for t, v in entries if t == DT_SONAME), None)
    return needed, soname


def _section_names(data: bytes, shoff: int, shentsize: int, shnum: int,
                   shstrndx: int) -> tuple[bytes, ...]:
    if shoff == 0 or shnum == 0:
        return ()
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    return tuple(data[names_offset + name:data.index(b"\0", names_offset + name)]
                 for name, *_rest in headers)


Outcome = Literal["stripped", "refused", "skipped"]


@dataclass
class StripReport:
    stripped: list[str] = field(default_factory=list)  # bundle paths
    refused: list[str] = field(default_factory=list)  # stripped copy unsound: original kept
    saved_bytes: int = 0


def strip_copy(source: Path, target: Path, strip: str = "strip") -> Outcome:
    """Write a stripped copy of ``source`` to ``target``: "stripped" if the copy is sound
    (aligned, the same needed libraries and soname); "refused" if it is not (``target`` is
    removed); "skipped" if ``source`` is no ELF file or has nothing to strip."""
    original = read_elf(source.read_bytes())
    if original is None or not original.worth_stripping:
        return "skipped"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    done = subprocess.run([strip, "--strip-all", str(target)], capture_output=True,
                          check=False)
    copy = read_elf(target.read_bytes()) if done.returncode == 0 else None
    if (copy is not None and copy.aligned and copy.needed == original.needed
            and copy.soname == original.soname):
        return "stripped"
    target.unlink()
    return "refused"


def strip_binaries(binaries: list[tuple[str, str, str]], folder: Path
                   ) -> tuple[list[tuple[str, str, str]], StripReport]:
    """PyInstaller's ``a.binaries`` with each ELF file replaced by its stripped copy under
    ``folder`` when that copy is sound. Entries are (bundle path, source path, type code)."""
    report = StripReport()
    result = []
    for dest, source, kind in binaries:
        target = folder / dest
        outcome = strip_copy(Path(source), target)
        if outcome == "stripped":
            report.stripped.append(dest)
            report.saved_bytes += Path(source).stat().st_size - target.stat().st_size
            result.append((dest, str(target), kind))
            continue
        if outcome == "refused":
            report.refused.append(dest)
        result.append((dest, source, kind))
    return result, report
