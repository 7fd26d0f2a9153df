"""Every benchmark's smoke version still runs and returns a well-formed result (CI keeps the
benchmarks from rotting). Figures are never compared with a threshold: a benchmark on a busy
2-core machine is slow at random. What is checked is the shape ``benchmarks/report.py``
documents: a name, a non-empty table, and every figure a finite, non-negative number.

Benchmarks are discovered the way ``make bench`` finds them (``benchmarks/run_all.py``); a
module without ``run(smoke)`` is skipped, and so is one that sets ``CI_SMOKE = False`` or is
named in ``HEAVY`` (its smoke version needs minutes of setup). A smoke run may measure nothing
(the bundle's, when no bundle is built) if a note says why."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import pytest

from benchmarks import report
from benchmarks.run_all import discover, module_name

HEAVY: dict[str, str] = {}  # name → why its smoke version cannot run in CI


def benchmark_names() -> list[str]:
    return discover()


@pytest.mark.parametrize("name", benchmark_names())
def test_smoke_run_returns_a_well_formed_result(name: str, qapp: object) -> None:
    if name in HEAVY:
        pytest.skip(HEAVY[name])
    module = importlib.import_module(module_name(name))
    run = getattr(module, "run", None)
    if not callable(run) or getattr(module, "CI_SMOKE", True) is False:
        pytest.skip(f"{module_name(name)} has no run(smoke) for CI")
    result = run(True)
    assert report.check_result(result) == []
    assert result["name"] == name
    if not result["rows"]:  # measured nothing here (e.g. no bundle built): a note says why
        assert result["notes"]
        return
    numbers = [v for row in result["rows"] for v in row.values()
               if isinstance(v, int | float) and not isinstance(v, bool)]
    assert numbers, "the table holds no figure at all"
    json.dumps(result, allow_nan=False)  # what report.save writes must be valid JSON


def test_the_shape_check_finds_what_is_wrong() -> None:
    good = {"name": "x", "rows": [{"case": "a", "ms": 1.5, "n": 3, "missing": None}],
            "headline": {"ratio": 0.4}, "notes": ["n"]}
    assert report.check_result(good) == []
    bad = {"name": "X Y", "rows": [{"ms": math.nan}, {"ms": -1.0}, {"ms": [1]}],
           "headline": {"r": math.inf, "s": "fast"}, "notes": "n"}
    problems = report.check_result(bad)
    assert len(problems) == 7, problems
    assert report.check_result({"name": "x", "rows": [], "headline": {}, "notes": []}) == [
        "rows is empty and no note says why"]
    assert report.check_result({"name": "x", "rows": [], "headline": {},
                                "notes": ["no bundle built"]}) == []


def test_save_and_latest_keep_the_machine_and_pick_the_newest(tmp_path: Path) -> None:
    result = {"name": "demo", "rows": [{"case": "a", "ms": 1.0}], "headline": {},
              "notes": []}
    first = report.save(result, tmp_path)
    (tmp_path / "demo-20000101-000000.json").write_text(first.read_text())  # an older one
    report.save(result, tmp_path, variant="smoke")
    latest = report.latest("demo", tmp_path)
    assert latest is not None and latest["path"] == str(first)
    machine = latest["machine"]
    assert machine["cores"] >= 1 and len(machine["load_average"]) == 3
    assert machine["python"] and machine["commit"]
    assert report.latest("demo", tmp_path, variant="smoke") is not None
    assert report.latest("other", tmp_path) is None
    with pytest.raises(ValueError, match="nothing was measured"):
        report.save({**result, "rows": [], "notes": ["no bundle built"]}, tmp_path)


def test_a_table_prints_every_column_of_every_row() -> None:
    lines: list[str] = []
    report.print_table([{"case": "a", "ms": 1234.5}, {"case": "bb", "n": 7}], out=lines.append)
    assert lines[0].split() == ["case", "ms", "n"]
    assert lines[2].split() == ["a", "1,234", "-"]
    assert lines[3].split() == ["bb", "-", "7"]
    assert report.markdown_table([{"case": "a|b", "ms": 0.5}]).splitlines()[2] == \
        "| a\\|b | 0.5 |"


def test_a_plot_is_written_as_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="installed by the bench extra only")
    result = {"name": "demo", "rows": [{"case": "a", "ms": 1.0, "n": 2},
                                       {"case": "b", "ms": None, "n": 3}]}
    for kind in ("bar", "line"):
        path = report.plot(result, {"x": "case", "y": ["ms", "n"], "kind": kind},
                           tmp_path / f"{kind}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
