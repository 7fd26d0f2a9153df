"""The vectorised level meter: a whole block's pieces metered in one pass give exactly the
levels of metering each piece alone."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.signal import SILENCE_DBFS, Level, level_dbfs
from app.io.audio.level import level_of, levels_of_pieces


def test_each_piece_of_a_block_has_the_level_it_has_alone() -> None:
    rng = np.random.default_rng(14)
    loud = rng.normal(0, 8_000, 16_384).clip(-32_768, 32_767)
    block = np.concatenate([loud[:5_000], np.zeros(3_000), loud[5_000:] / 50,
                            [-32_768, 32_767]]).astype("<i2").tobytes()
    # Irregular pieces, as at a block's ends; an empty one; a last one short of the end.
    sizes = [4_800, 3_200, 3_200, 0, 3_200, 6_000, 2, 3_200, 2_900 * 2, 3_198]
    assert sum(sizes) < len(block)
    levels = levels_of_pieces(block, sizes)
    offset = 0
    for size, level in zip(sizes, levels, strict=True):
        assert level == level_of(block[offset : offset + size])
        offset += size
    assert levels[3] == Level(SILENCE_DBFS, SILENCE_DBFS)  # the empty piece
    assert levels[1] != levels[0]  # the silent stretch is told apart
    assert levels_of_pieces(block, [len(block)]) == [level_of(block)]


def test_the_block_levels_match_the_pure_reference() -> None:
    rng = np.random.default_rng(3)
    block = rng.integers(-32_768, 32_767, 6_400, endpoint=True).astype("<i2").tobytes()
    for level, start in zip(levels_of_pieces(block, [3_200] * 4), range(0, 12_800, 3_200),
                            strict=True):
        reference = level_dbfs(block[start : start + 3_200])
        assert level.rms_dbfs == pytest.approx(reference.rms_dbfs, abs=1e-9)
        assert level.peak_dbfs == reference.peak_dbfs


def test_nothing_to_meter() -> None:
    silence = Level(SILENCE_DBFS, SILENCE_DBFS)
    assert levels_of_pieces(b"", []) == []
    assert levels_of_pieces(b"", [0, 0]) == [silence, silence]
    assert levels_of_pieces(bytes(3_200), [3_200]) == [silence]


@pytest.mark.parametrize("sizes", [[3], [3_200, 1], [-2, 4], [6_402]])
def test_pieces_must_be_whole_samples_within_the_data(sizes: list[int]) -> None:
    with pytest.raises(ValueError):
        levels_of_pieces(bytes(6_400), sizes)
