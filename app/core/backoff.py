"""Capped, jittered exponential backoff as a small generator.

``full`` jitter (AWS architecture blog, "Exponential Backoff And Jitter"): each delay is drawn
uniformly from ``[0, min(cap, base * factor**n)]``, which spreads reconnecting clients apart.
Randomness is injected so tests are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


def backoff(
    *,
    base: float = 0.5,
    factor: float = 2.0,
    cap: float = 30.0,
    jitter: bool = True,
    max_attempts: int | None = None,
    rand: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Yield delays in seconds: ``base``, ``base*factor``, … up to ``cap``, each jittered.

    ``rand`` returns a float in [0, 1); with ``jitter=False`` it is not called. The generator
    ends after ``max_attempts`` delays, or never when ``max_attempts`` is ``None``.
    """
    if base <= 0 or factor < 1 or cap < base:
        raise ValueError("backoff needs base > 0, factor >= 1 and cap >= base")
    if max_attempts is not None and max_attempts < 0:
        raise ValueError("max_attempts must not be negative")
    ceiling = base
    attempt = 0
    while max_attempts is None or attempt < max_attempts:
        yield ceiling * rand() if jitter else ceiling
        attempt += 1
        ceiling = min(cap, ceiling * factor)
