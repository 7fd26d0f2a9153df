from __future__ import annotations

import pytest

from app.core.audio import FRAME_BYTES, FrameChunker, bytes_for_ms, duration_ms


def test_wire_format_constants() -> None:
    assert FRAME_BYTES == 1600
    assert duration_ms(1600) == 50
    assert duration_ms(1600 * 2, channels=2) == 50
    assert bytes_for_ms(50) == 1600
    assert bytes_for_ms(10, sample_rate=44_100) == 441 * 2


def test_chunker_reassembles_arbitrary_pieces_into_exact_frames() -> None:
    chunker = FrameChunker()
    data = bytes(range(256)) * 40  # 10240 bytes = 6.4 frames
    frames: list[bytes] = []
    for start in range(0, len(data), 882):  # 441-sample pieces, as a 44.1 kHz device
        frames += chunker.push(data[start : start + 882])
    assert all(len(f) == FRAME_BYTES for f in frames)
    assert len(frames) == 6
    assert b"".join(frames) == data[: 6 * FRAME_BYTES]
    assert chunker.pending_bytes == len(data) - 6 * FRAME_BYTES
    tail = chunker.flush()
    assert tail is not None and len(tail) == FRAME_BYTES
    assert tail.startswith(data[6 * FRAME_BYTES :]) and tail.endswith(b"\x00")
    assert chunker.flush() is None


def test_flush_pads_only_up_to_the_minimum_asked() -> None:
    chunker = FrameChunker(4 * FRAME_BYTES)
    assert chunker.push(b"\x01\x02" * 100) == []
    assert chunker.flush(FRAME_BYTES) == (b"\x01\x02" * 100).ljust(FRAME_BYTES, b"\x00")
    longer = b"\x03\x04" * (FRAME_BYTES // 2 + 10)  # past the minimum: sent as it is
    assert chunker.push(longer) == []
    assert chunker.flush(FRAME_BYTES) == longer
    assert chunker.push(b"\x05\x06" * 10) == []
    assert chunker.flush(8 * FRAME_BYTES) == (b"\x05\x06" * 10).ljust(4 * FRAME_BYTES, b"\x00")


def test_flush_drops_a_lone_half_sample() -> None:
    chunker = FrameChunker()
    assert chunker.push(b"\x01") == []
    assert chunker.flush() is None


@pytest.mark.parametrize("size", [0, -2, 3])
def test_frame_size_must_be_whole_samples(size: int) -> None:
    with pytest.raises(ValueError):
        FrameChunker(size)
