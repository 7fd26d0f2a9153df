"""pulsectl's private API in one place, for pulsectl 24.12.0 only (pinned in pyproject.toml).

``Pulse._pulse_get_list`` builds a list query whose info callback we choose: the only way to run
code inside libpulse's callback, where a ``pa_source_info`` is still valid (see
``app.io.devices.pulse._Source.from_struct`` for why the copy must happen there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import pulsectl

from app.io.version_pins import require_pinned_version

PINNED_VERSION: Final = "24.12.0"

require_pinned_version("pulsectl", PINNED_VERSION,
                       private_use="pulsectl.Pulse._pulse_get_list and pulsectl._pulsectl",
                       compat_module=__name__)

Info = TypeVar("Info")


def source_info_lister(from_struct: Callable[[Any], Info]) -> Callable[[Any], list[Info]]:
    """A function ``(pulse) -> [from_struct(pa_source_info), ...]`` over every source of the
    server that ``pulse`` (a connected ``pulsectl.Pulse``) is talking to. ``from_struct`` runs
    inside libpulse's callback, while the struct it is given is valid."""
    lister: Callable[[Any], list[Info]] = pulsectl.Pulse._pulse_get_list(
        pulsectl._pulsectl.PA_SOURCE_INFO_CB_T,
        pulsectl._pulsectl.pa.context_get_source_info_list,
        from_struct,
    )
    return lister
