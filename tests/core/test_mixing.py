"""The mixing maths of "Microphone + system audio" as one stream: the clipped sum, the pairing
of two parts' frames by moment, and when two offline streams are too many."""

from __future__ import annotations

from array import array
from typing import Literal

import pytest

from app.core.mixing import (
    FrameAligner,
    MixReason,
    mix_s16,
    mixed_notice,
    reason_to_mix,
    two_offline_streams,
)
from app.core.signal import bytes_s16, samples_s16


def _frame(*values: int) -> bytes:
    return bytes_s16(array("h", values))


@pytest.mark.parametrize(("a", "b", "mixed"), [
    ((0, 1, -1), (0, 2, -2), (0, 3, -3)),
    ((30_000, -30_000), (10_000, -10_000), (32_767, -32_768)),  # clipped, never wrapped
    ((32_767, -32_768), (32_767, -32_768), (32_767, -32_768)),
    ((), (), ()),
])
def test_the_sum_is_clipped_to_sixteen_bits(a: tuple[int, ...], b: tuple[int, ...],
                                            mixed: tuple[int, ...]) -> None:
    assert list(samples_s16(mix_s16(_frame(*a), _frame(*b)))) == list(mixed)


def test_frames_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        mix_s16(_frame(1, 2), _frame(1))


def test_frames_are_paired_by_moment_whichever_part_delivers_first() -> None:
    aligner = FrameAligner(max_skew=10)
    assert aligner.take(0, b"a1") == []
    assert aligner.take(0, b"a2") == []
    assert aligner.take(1, b"b1") == [(b"a1", b"b1")]
    assert aligner.take(1, b"b2") == [(b"a2", b"b2")]
    assert aligner.take(1, b"b3") == []
    assert aligner.take(0, b"a3") == [(b"a3", b"b3")]
    assert aligner.drain() == []


def test_a_silent_part_holds_the_other_back_by_at_most_max_skew_frames() -> None:
    aligner = FrameAligner(max_skew=2)
    out = [pair for n in range(5) for pair in aligner.take(1, bytes([n]))]
    assert out == [(None, b"\x00"), (None, b"\x01"), (None, b"\x02")]
    assert aligner.drain() == [(None, b"\x03"), (None, b"\x04")]


def test_what_is_left_at_the_end_goes_out_paired_as_far_as_it_goes() -> None:
    aligner = FrameAligner()
    for n in range(3):
        aligner.take(0, bytes([n]))
    aligner.take(1, b"x")
    assert aligner.drain() == [(b"\x01", None), (b"\x02", None)]
    assert aligner.drain() == []


def test_a_negative_skew_is_refused() -> None:
    with pytest.raises(ValueError):
        FrameAligner(-1)


@pytest.mark.parametrize(("cores", "two"), [(None, False), (1, False), (2, False),
                                            (3, False), (4, True), (16, True)])
def test_two_offline_streams_need_four_cores(cores: int | None, two: bool) -> None:
    assert two_offline_streams(cores) is two


def test_every_reason_has_one_plain_sentence_that_says_the_labels_are_gone() -> None:
    for reason in MixReason:
        text = mixed_notice(reason)
        assert text.endswith("without You and Others labels.")
        assert text.count(".") == 1


@pytest.mark.parametrize(("offline", "behind", "cores", "reason"), [
    (0, None, 2, None),
    (1, None, 2, None),  # one decoder beside a cloud stream: labels kept
    (2, None, 2, MixReason.FELL_BACK),
    (2, None, 8, None),  # cores for two decoders
    (2, "you", 8, MixReason.BEHIND),
    (2, "others", 2, MixReason.BEHIND),
    (1, "others", 8, MixReason.BEHIND),  # Others' load moves to You's cloud stream
    (1, "you", 8, None),  # You's decoder alone: mixing would only give it more to do
])
def test_when_two_voices_become_one_mixed_stream(
    offline: int, behind: Literal["you", "others"] | None, cores: int,
    reason: MixReason | None,
) -> None:
    assert reason_to_mix(offline_voices=offline, behind=behind, cpu_count=cores) is reason
