"""The soak benchmark's two-minute version (benchmarks/soak.py): the recorder, the client and
the emulator over loopback, the connection cut several times, every word counted."""

from __future__ import annotations

from benchmarks.soak import count_errors, run_soak


async def test_two_minutes_with_cuts_lose_and_double_no_word() -> None:
    result = await run_soak(minutes=2.0, speed=20.0, drop_every_s=15.0)
    print(result)  # the figures, for the CI log
    assert result.error == ""
    assert result.disconnects >= 2 and result.reconnects == result.disconnects
    assert (result.words_lost, result.words_doubled) == (0, 0)
    assert result.dropped_frames == 0 and result.lost_audio_ms == 0


def test_the_word_count_sees_losses_and_doubles() -> None:
    expected = ["a", "b", "c", "d"]
    assert count_errors(expected, expected) == (0, 0)
    assert count_errors(expected, ["a", "c", "d"]) == (1, 0)
    assert count_errors(expected, ["a", "b", "b", "c", "d"]) == (0, 1)
    assert count_errors(expected, ["a", "x", "c", "d"]) == (1, 1)
