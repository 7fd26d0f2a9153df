"""AudioPump and StreamResampler on the event loop, with real soxr (no device needed)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from app.core.audio import FRAME_BYTES, FRAME_SAMPLES
from app.core.signal import Level
from app.io.audio.level import level_of
from app.io.audio.pump import AudioPump
from app.io.audio.resample import StreamResampler


class Collector:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.levels: list[Level] = []

    def frame(self, data: bytes) -> None:
        self.frames.append(data)

    def level(self, level: Level) -> None:
        self.levels.append(level)

    @property
    def pcm(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2")


async def drained(pump: AudioPump) -> None:
    """Let the loop run until the pump has converted everything queued (yields, no sleeping)."""
    for _ in range(10_000):
        if pump.queued_bytes == 0:
            return
        await asyncio.sleep(0)  # one loop iteration, not a real-time wait
    raise AssertionError(f"pump never drained: {pump!r}")


def tone(freq: float, rate: int, seconds: float, amplitude: float = 20_000) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return np.round(amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2")


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(float), b.astype(float)
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


async def test_wire_format_passes_through_in_exact_frames() -> None:
    out = Collector()
    pump = AudioPump(out.frame, out.level)
    data = np.arange(-5000, 5000, dtype="<i2").tobytes()  # 12.5 frames
    for start in range(0, len(data), 882):
        pump.put(data[start : start + 882])
    await drained(pump)
    assert [len(f) for f in out.frames] == [FRAME_BYTES] * 12
    assert b"".join(out.frames) == data[: 12 * FRAME_BYTES]
    pump.flush()
    assert len(out.frames) == 13 and pump.frames_delivered == 13
    assert out.frames[-1] == data[12 * FRAME_BYTES :].ljust(FRAME_BYTES, b"\x00")
    assert pump.dropped_frames == 0


async def test_flush_delivers_the_remainder_and_later_audio_counts_as_dropped() -> None:
    out = Collector()
    pump = AudioPump(out.frame)
    pump.put(b"\x01\x00" * 100)
    pump.flush()  # before any drain ran: flush converts the queue itself
    assert out.frames == [(b"\x01\x00" * 100).ljust(FRAME_BYTES, b"\x00")]
    pump.put(b"\x00\x00" * 50)
    pump.flush()
    await drained(pump)
    assert len(out.frames) == 1
    assert pump.dropped_frames == 50 and pump.is_flushed


async def test_drop_oldest_when_the_bound_is_hit() -> None:
    out = Collector()
    # 0.25 s bound = 4000 samples = 5 frames; the loop gets no turn while 12 frames arrive.
    pump = AudioPump(out.frame, max_buffer_s=0.25)
    for i in range(12):
        pump.put(np.full(FRAME_SAMPLES, i, dtype="<i2").tobytes())
    assert pump.queued_bytes == 5 * FRAME_BYTES
    assert pump.dropped_frames == 7 * FRAME_SAMPLES
    assert pump.dropped_ms == pytest.approx(350.0)
    await drained(pump)
    # The newest five survive, in order.
    assert [np.frombuffer(f, dtype="<i2")[0] for f in out.frames] == [7, 8, 9, 10, 11]


async def test_each_loop_pass_does_bounded_work() -> None:
    out = Collector()
    pump = AudioPump(out.frame, out.level, max_chunks_per_pass=4)
    for i in range(10):
        pump.put(np.full(FRAME_SAMPLES, i, dtype="<i2").tobytes())
    delivered = []
    for _ in range(3):
        await asyncio.sleep(0)  # one loop iteration (no real-time wait): one drain pass
        delivered.append(len(out.frames))
    assert delivered == [4, 8, 10]
    assert len(out.levels) == 3  # one reading per pass, not per frame


async def test_level_reports_the_delivered_audio() -> None:
    out = Collector()
    pump = AudioPump(out.frame, out.level)
    pump.put(np.zeros(FRAME_SAMPLES, dtype="<i2").tobytes())
    await drained(pump)
    pump.put(tone(1000, 16_000, 0.05, amplitude=32767).tobytes())
    await drained(pump)
    silence, sine = out.levels
    assert silence.peak_dbfs < -60 and silence.rms_dbfs < -60
    assert sine.peak_dbfs > -0.1
    assert sine.rms_dbfs == pytest.approx(-3.01, abs=0.05)


async def test_48k_stereo_becomes_16k_mono_and_keeps_its_length() -> None:
    out = Collector()
    pump = AudioPump(out.frame, in_rate=48_000, channels=2)
    left = tone(440, 48_000, 1.0)
    stereo = np.column_stack([left, left]).reshape(-1).astype("<i2").tobytes()
    for start in range(0, len(stereo), 4096):  # 1024 stereo frames, like a PortAudio buffer
        pump.put(stereo[start : start + 4096])
    await drained(pump)
    pump.flush()
    assert all(len(f) == FRAME_BYTES for f in out.frames)
    assert abs(len(out.frames) * FRAME_SAMPLES - 16_000) <= FRAME_SAMPLES
    got, want = out.pcm[:16_000], tone(440, 16_000, 1.0)
    assert ncc(got[200:-200], want[200:-200]) > 0.999


async def test_put_refuses_partial_sample_frames() -> None:
    pump = AudioPump(lambda _: None, channels=2)
    with pytest.raises(ValueError):
        pump.put(b"\x00" * 6)


def test_pump_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        AudioPump(lambda _: None, channels=0)
    with pytest.raises(ValueError):
        AudioPump(lambda _: None, max_buffer_s=0)


# --- StreamResampler -------------------------------------------------------------------------


def test_resampler_identity_at_16k() -> None:
    resampler = StreamResampler(16_000)
    data = b"\x01\x02" * 10
    assert resampler.is_identity
    assert resampler.process(data) is data
    assert resampler.flush() == b""


@pytest.mark.parametrize("in_rate", [8_000, 22_050, 44_100, 48_000])
def test_resampler_chunking_changes_at_most_the_dither(in_rate: int) -> None:
    signal = tone(300, in_rate, 0.5)
    whole = StreamResampler(in_rate)
    one_go = whole.process(signal.tobytes()) + whole.flush()
    pieces = StreamResampler(in_rate)
    chunked = b"".join(pieces.process(signal[i : i + 441].tobytes())
                       for i in range(0, len(signal), 441)) + pieces.flush()
    assert len(one_go) // 2 == pytest.approx(8_000, abs=1)
    assert len(chunked) == len(one_go)
    # soxr dithers its int16 output, so the last bit or two depends on the cut; nothing more.
    diff = np.frombuffer(chunked, "<i2").astype(int) - np.frombuffer(one_go, "<i2").astype(int)
    assert np.abs(diff).max() <= 2


async def test_put_and_drain_converts_at_once_within_the_per_pass_bound() -> None:
    out = Collector()
    pump = AudioPump(out.frame, out.level, max_chunks_per_pass=2)
    pump.put_and_drain(np.full(2 * FRAME_SAMPLES, 1, dtype="<i2").tobytes())
    assert len(out.frames) == 2 and len(out.levels) == 1  # no loop iteration needed
    for i in range(3):
        pump.put(np.full(FRAME_SAMPLES, i, dtype="<i2").tobytes())
    pump.put_and_drain(np.full(FRAME_SAMPLES, 9, dtype="<i2").tobytes())
    assert len(out.frames) == 4  # one bounded pass: two of the four queued chunks
    await drained(pump)
    assert [np.frombuffer(f, dtype="<i2")[0] for f in out.frames[2:]] == [0, 1, 2, 9]


async def test_a_level_found_beforehand_is_reported_as_it_is() -> None:
    out = Collector()
    pump = AudioPump(out.frame, out.level)
    data = tone(440, 16_000, 0.1).tobytes()
    given = Level(rms_dbfs=-12.5, peak_dbfs=-3.0)  # not data's level: it must pass unchanged
    pump.put_and_drain(data, given)
    pump.put_and_drain(data)  # none given: metered here
    assert out.levels == [given, level_of(data)]
    assert b"".join(out.frames) == data + data


@pytest.mark.parametrize(("rate", "channels"), [(16_000, 1), (44_100, 2)])
async def test_put_and_drain_with_nothing_queued_matches_put_then_drain(rate: int,
                                                                     channels: int) -> None:
    data = np.repeat(tone(300, rate, 0.37), channels).tobytes()  # interleaved, as a device
    chunk = 1_500 * 2 * channels
    direct, queued = Collector(), Collector()
    fast = AudioPump(direct.frame, direct.level, in_rate=rate, channels=channels)
    slow = AudioPump(queued.frame, queued.level, in_rate=rate, channels=channels)
    for start in range(0, len(data), chunk):
        fast.put_and_drain(data[start : start + chunk])
        slow.put(data[start : start + chunk])
        await drained(slow)
    fast.flush()
    slow.flush()
    assert [len(f) for f in direct.frames] == [len(f) for f in queued.frames]
    assert len(direct.levels) == len(queued.levels)
    if rate == 16_000:  # no resampling: bit-exact
        assert direct.frames == queued.frames and direct.levels == queued.levels
    else:  # soxr dithers its int16 output: the last bit or two differ from run to run
        diff = direct.pcm.astype(int) - queued.pcm.astype(int)
        assert np.abs(diff).max() <= 2
        for a, b in zip(direct.levels, queued.levels, strict=True):
            assert a.rms_dbfs == pytest.approx(b.rms_dbfs, abs=0.01)
    assert (fast.chunks_received, fast.frames_delivered) == (slow.chunks_received,
                                                             slow.frames_delivered)
    with pytest.raises(ValueError):
        fast.put_and_drain(b"\0")  # half a sample
    fast.put_and_drain(data[:chunk])  # after flush: counted as dropped, not delivered
    assert fast.dropped_frames == 1_500 and len(direct.frames) == len(queued.frames)
