"""The one check every compatibility module runs before it touches a library's private API.

Private APIs change without notice, so each ``*_compat`` module states the exact release it was
written against and refuses to import under any other: a clear error at start-up beats a wrong
answer later. The error is a ``RuntimeError``, not an ``ImportError``, so no "optional library
missing, use the fallback" handler swallows it.
"""

from __future__ import annotations

import importlib.metadata


class IncompatibleVersionError(RuntimeError):
    """An installed library is not the release a compatibility module was written for."""


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when no metadata says."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def require_pinned_version(distribution: str, pinned: str, *, private_use: str,
                           compat_module: str) -> None:
    """Raise :class:`IncompatibleVersionError` unless ``distribution`` is exactly ``pinned``.

    ``private_use`` names what is used that the library does not promise to keep;
    ``compat_module`` is the file to re-check before moving the pin.
    """
    installed = installed_version(distribution)
    if installed == pinned:
        return
    found = "is installed without metadata" if installed is None else f"{installed} is installed"
    raise IncompatibleVersionError(
        f"{distribution} {pinned} is required but {distribution} {found}. This app uses "
        f"{private_use}, which is not public API, as of {distribution} {pinned}. Install "
        f"{distribution}=={pinned}, or check {compat_module} against the new release and move "
        "the pin in pyproject.toml."
    )
