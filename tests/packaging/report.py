"""Reading the self-test's report: one ``status name detail`` line per check."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"^(ok|warn|FAIL)\s+(\S+)\s+(.*)$")
CHECK_NAMES = ("install", "qt", "resources", "window", "audio", "devices", "offline", "keyring")


@dataclass(frozen=True)
class Line:
    status: str
    detail: str


def parse_report(text: str) -> dict[str, Line]:
    found: dict[str, Line] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            found[match.group(2)] = Line(match.group(1), match.group(3))
    return found
