from __future__ import annotations

import math
import struct

import pytest

from app.core.signal import (
    SILENCE_DBFS,
    Level,
    downmix_s16,
    frames_due,
    frames_per_buffer,
    level_dbfs,
    piece_sizes,
    to_s16,
)


def pack(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def unpack(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


def sine(amplitude: float, n: int = 1600, period: int = 16) -> bytes:
    return pack(*(round(amplitude * math.sin(2 * math.pi * i / period)) for i in range(n)))


# --- downmix ---------------------------------------------------------------------------------


def test_downmix_mono_is_the_same_bytes() -> None:
    data = pack(1, -2, 3)
    assert downmix_s16(data, 1) is data


def test_downmix_stereo_averages_each_frame() -> None:
    stereo = pack(100, 200, -100, -300, 32767, 32767, -32768, -32768, 32767, -32768)
    assert unpack(downmix_s16(stereo, 2)) == [150, -200, 32767, -32768, -1]


def test_downmix_identical_channels_gives_back_the_channel() -> None:
    channel = [0, 1, -1, 12345, -32768, 32767, 7]
    stereo = pack(*(s for x in channel for s in (x, x)))
    assert unpack(downmix_s16(stereo, 2)) == channel


def test_downmix_many_channels_floors_the_mean() -> None:
    quad = pack(1, 2, 3, 4, -1, -2, -3, -5)
    assert unpack(downmix_s16(quad, 4)) == [2, -3]  # 10 // 4 and -11 // 4
    assert unpack(downmix_s16(pack(3, 3, 4), 3)) == [3]


@pytest.mark.parametrize(("data", "channels"), [(b"\x00" * 6, 2), (b"\x00" * 3, 1), (b"", 0)])
def test_downmix_refuses_partial_frames_and_zero_channels(data: bytes, channels: int) -> None:
    with pytest.raises(ValueError):
        downmix_s16(data, channels)


def test_downmix_empty_is_empty() -> None:
    assert downmix_s16(b"", 2) == b""


# --- sample width ----------------------------------------------------------------------------


def test_to_s16_keeps_16_bit_and_converts_unsigned_8_bit() -> None:
    data = pack(5, -5)
    assert to_s16(data, 2) is data
    assert unpack(to_s16(bytes([0, 128, 255, 129]), 1)) == [-32768, 0, 32512, 256]


def test_to_s16_keeps_the_top_16_bits_of_24_and_32_bit() -> None:
    s24 = b"".join(v.to_bytes(3, "little", signed=True) for v in (0x123456, -0x123456, -1))
    assert unpack(to_s16(s24, 3)) == [0x1234, -0x1235, -1]
    s32 = struct.pack("<3i", 0x7FFFFFFF, -0x80000000, 0x00010000)
    assert unpack(to_s16(s32, 4)) == [32767, -32768, 1]


@pytest.mark.parametrize(("data", "width"), [(b"\x00" * 4, 5), (b"\x00" * 4, 3)])
def test_to_s16_refuses_unknown_widths_and_partial_samples(data: bytes, width: int) -> None:
    with pytest.raises(ValueError):
        to_s16(data, width)


# --- level -----------------------------------------------------------------------------------


def test_silence_and_empty_sit_at_the_floor() -> None:
    assert level_dbfs(b"\x00" * 1600) == Level(SILENCE_DBFS, SILENCE_DBFS)
    assert level_dbfs(b"") == Level(SILENCE_DBFS, SILENCE_DBFS)


def test_full_scale_sine_peaks_at_0_and_averages_minus_3() -> None:
    level = level_dbfs(sine(32767))
    assert level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.02)


def test_negative_full_scale_is_exactly_0_dbfs() -> None:
    assert level_dbfs(pack(0, -32768, 0)).peak_dbfs == 0.0


def test_a_quieter_sine_is_20_db_per_decade_lower() -> None:
    loud, quiet = level_dbfs(sine(30000)), level_dbfs(sine(3000))
    assert loud.rms_dbfs - quiet.rms_dbfs == pytest.approx(20.0, abs=0.05)
    assert loud.peak_dbfs - quiet.peak_dbfs == pytest.approx(20.0, abs=0.05)


def test_one_lsb_is_about_minus_90_dbfs() -> None:
    assert level_dbfs(pack(1, -1)).peak_dbfs == pytest.approx(-90.31, abs=0.01)


# --- frame maths -----------------------------------------------------------------------------


def test_frames_per_buffer_is_50_ms() -> None:
    assert frames_per_buffer(16_000) == 800
    assert frames_per_buffer(44_100) == 2205
    assert frames_per_buffer(48_000, ms=20) == 960
    assert frames_per_buffer(10) == 1
    with pytest.raises(ValueError):
        frames_per_buffer(0)


def test_frames_due_never_drifts_on_uneven_rates() -> None:
    steps = [frames_due(k, 22_050) - frames_due(k - 1, 22_050) for k in range(1, 21)]
    assert set(steps) == {1102, 1103}
    assert frames_due(20, 22_050) == 22_050  # one second in 20 periods, exactly
    assert frames_due(0, 44_100) == 0


def _paced_loop_cuts(blocks: list[int], rate: int, ms: int, width: int) -> list[int]:
    """What the paced reader's loop did before the cutting moved to its reader thread: one
    slice per period of the current block, wanting what the stream owes by then."""
    sizes: list[int] = []
    sent = tick = 0
    for length in blocks:
        offset = 0
        while offset < length:
            tick += 1
            want = frames_due(tick, rate, ms) * width - sent
            size = len(bytes(length)[offset : offset + want])
            offset += size
            sent += size
            sizes.append(size)
    return sizes


@pytest.mark.parametrize(("rate", "ms", "width"), [
    (16_000, 100, 2), (22_050, 50, 2), (44_100, 100, 4), (8_000, 100, 2), (11_025, 100, 2),
])
def test_piece_sizes_cut_each_block_as_the_paced_loop_does(rate: int, ms: int,
                                                           width: int) -> None:
    # Uneven blocks (a decoder overshoots the second it was asked for), a short last one.
    blocks = [32_768 * width // 2, 33_000 * width // 2, 3_202 * width // 2, 500 * width // 2]
    cut: list[int] = []
    sent = tick = 0
    for length in blocks:
        sizes = piece_sizes(length, tick, sent, rate, ms, width)
        assert sum(sizes) == length
        cut += sizes
        tick += len(sizes)
        sent += length
    assert cut == _paced_loop_cuts(blocks, rate, ms, width)


def test_piece_sizes_follow_the_clock_not_the_block() -> None:
    assert piece_sizes(0, 0, 0, 16_000, 100) == []
    # Exactly on the 100 ms grid: whole pieces; the block's end cuts one short.
    assert piece_sizes(8_000, 0, 0, 16_000, 100) == [3_200, 3_200, 1_600]
    # The next block's first piece makes up for the short one, then it is back on the grid.
    assert piece_sizes(8_000, 3, 8_000, 16_000, 100) == [4_800, 3_200]
    # A stream that is ahead of its clock gets empty pieces until the clock catches up.
    assert piece_sizes(3_200, 0, 6_400, 16_000, 100) == [0, 0, 3_200]
