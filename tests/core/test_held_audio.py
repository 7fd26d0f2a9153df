"""HeldAudio's bookkeeping of what an engine finished: what the bound drops past that point is
what a replay can no longer hear (the recorder says it was lost)."""

from __future__ import annotations

from app.core.held_audio import BYTES_PER_MS, HeldAudio


def ms(n: int) -> bytes:
    return bytes(n * BYTES_PER_MS)


def test_acknowledged_audio_is_let_go_and_marks_the_finished_point() -> None:
    held = HeldAudio(max_ms=10_000)
    held.begin_session()
    held.append(ms(3000))
    held.acknowledge(1200)
    assert held.start_ms == 1200 and held.acked_byte == 1200 * BYTES_PER_MS
    assert held.held_ms == 1800


def test_the_bound_drops_unfinished_audio_past_the_finished_point() -> None:
    held = HeldAudio(max_ms=2000)
    held.begin_session()
    held.append(ms(1000))
    held.acknowledge(500)
    held.append(ms(3000))  # 3.5 s unfinished, 2 s kept: 1.5 s no replay can hear
    assert held.start_byte - held.acked_byte == 1500 * BYTES_PER_MS
    assert held.overflow_ms == 1500


def test_an_acknowledgement_past_the_held_audio_stops_at_its_end() -> None:
    held = HeldAudio(max_ms=2000)
    held.begin_session()
    held.append(ms(400))
    held.acknowledge(900)
    assert held.acked_byte == held.end_byte == 400 * BYTES_PER_MS
