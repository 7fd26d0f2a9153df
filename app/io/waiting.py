"""Waiting for the first of several things, with every helper task awaited (none left behind)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def first_of(*waits: Any) -> None:
    """Return once any of ``waits`` (coroutines or futures) is done; cancel and await the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
