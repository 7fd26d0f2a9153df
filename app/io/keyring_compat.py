"""keyring's private behaviour in one place, for keyring 25.7.0 only (pinned in pyproject.toml).

keyring decides which backends are viable once per process (``keyring.backend.get_all_keyring``
is wrapped in ``jaraco.functools.once``) and offers no public way to decide again. The app must:
a Secret Service that was not reachable at the first probe (no session bus yet) would otherwise
be ignored until the app restarts. The ``reset`` attribute ``once`` adds is that way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Final

import keyring.backend

from app.io.version_pins import require_pinned_version

PINNED_VERSION: Final = "25.7.0"

require_pinned_version("keyring", PINNED_VERSION,
                       private_use="keyring.backend.get_all_keyring.reset (jaraco's once cache)",
                       compat_module=__name__)

_reset_viable_backends: Callable[[], None] = keyring.backend.get_all_keyring.reset


def forget_viable_backends() -> None:
    """Make keyring's next backend detection probe every backend again."""
    with contextlib.suppress(KeyError):  # nothing computed yet: nothing to forget
        _reset_viable_backends()
