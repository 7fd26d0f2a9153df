"""Durations as text: one place for the h:mm:ss arithmetic every view and export uses."""

from __future__ import annotations


def split_ms(ms: int) -> tuple[int, int, int, int]:
    """Hours, minutes, seconds and milliseconds of a duration (negative counts as zero)."""
    hours, rest = divmod(max(ms, 0), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return hours, minutes, seconds, millis


def short_clock(ms: int) -> str:
    """``mm:ss`` under an hour, ``h:mm:ss`` from then on: elapsed time, paragraph stamps."""
    hours, minutes, seconds, _ = split_ms(ms)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def long_clock(ms: int, millis_separator: str | None = None) -> str:
    """``HH:MM:SS``, with ``,mmm`` (SRT) or ``.mmm`` (WebVTT) when a separator is given."""
    hours, minutes, seconds, millis = split_ms(ms)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text if millis_separator is None else f"{text}{millis_separator}{millis:03d}"
