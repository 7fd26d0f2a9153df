"""TranscriptView under a long session: per-message cost from ``apply()`` to the repaint.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_transcript_view``
(options: ``--turns 10000 --naive-turns 1500 --naive-seconds 60 --seed 7``, or ``--smoke``);
``run(smoke)`` returns the same figures as a result for ``make bench``.

A shown 800x500 window is fed a scripted session: every turn is 3-6 partial messages growing
word by word, then its final (formatted, capitalised). Messages and model updates are prepared
outside the clock; what is timed per message is

    t0 → view.apply(change) → process events until the viewport has received a Paint event → t1

The paint is the one Qt's own event loop would do: ``apply`` only marks the viewport dirty,
the posted update request is delivered by ``processEvents``, and an event filter on the viewport
counts Paint events so the wait ends exactly when the new text has been drawn (offscreen, into
the backing store). A message that produced no paint is counted and reported, not hidden.

The baseline is the naive way, measured the same way in the same process: a QPlainTextEdit that
re-renders everything per message (``setPlainText(model.plain_text())`` then scroll to the end).
It is stopped after ``--naive-turns`` turns or ``--naive-seconds`` of rendering, whichever is
first, and the table says where.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QVBoxLayout, QWidget

from app.core.messages import Turn, Word
from app.core.transcript import TranscriptChange, TranscriptModel
from app.ui.transcript_view import TranscriptView

VOCABULARY = (
    "the a we it this that and so but then well okay meeting budget quarter team plan people "
    "really think going next week numbers look good review project customer update question "
    "before after time data report idea maybe should could would right yes no thanks"
).split()
WINDOW = (800, 500)


def script(turns: int, seed: int) -> Iterator[tuple[int, list[Turn]]]:
    """Per turn: its messages, partials growing word by word, then the formatted final."""
    rng = random.Random(seed)
    clock_ms = 0
    for order in range(turns):
        partials = rng.randint(3, 6)
        words = [rng.choice(VOCABULARY) for _ in range(partials + rng.randint(0, 6))]
        timed = [Word(w, clock_ms + 320 * i, clock_ms + 320 * i + 280, 0.9, False)
                 for i, w in enumerate(words)]
        clock_ms += 320 * len(words) + 700
        messages: list[Turn] = []
        for shown in range(1, partials + 1):
            cut = max(1, len(words) * shown // partials) if shown < partials else len(words)
            messages.append(Turn(order, False, False, "", 0.0, tuple(timed[:cut])))
        text = " ".join(words).capitalize() + "."
        final_words = tuple(Word(w.text, w.start, w.end, w.confidence, True) for w in timed)
        messages.append(Turn(order, True, True, text, 0.9, final_words))
        yield order, messages


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


@dataclass
class Run:
    name: str
    samples: list[tuple[int, int, int]]  # (turn, ns to the paint, ns in the render call)
    unpainted: int = 0
    stopped_at: int | None = None  # turns fed when the run was cut short
    seconds: float = 0.0


def measure(name: str, editor: QPlainTextEdit, render: Callable[[TranscriptChange], None],
            model: TranscriptModel, turns: int, seed: int, budget_s: float | None) -> Run:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = QWidget()
    window.setWindowTitle(name)
    QVBoxLayout(window).addWidget(editor)
    window.resize(*WINDOW)
    window.show()
    if not QTest.qWaitForWindowExposed(window):
        raise SystemExit("the window was never exposed")
    counter = PaintCounter()
    editor.viewport().installEventFilter(counter)
    app.processEvents()
    run = Run(name, [])
    clock = time.perf_counter_ns
    spent = 0
    for order, messages in script(turns, seed):
        for message in messages:
            change = model.apply(message)
            assert change is not None
            before = counter.paints
            began = clock()
            render(change)
            rendered = clock()
            for _ in range(100):  # one pass is enough in practice; the cap only guards a hang
                app.processEvents()
                if counter.paints != before:
                    break
            elapsed = clock() - began
            run.unpainted += counter.paints == before
            run.samples.append((order, elapsed, rendered - began))
            spent += elapsed
        if budget_s is not None and spent / 1e9 > budget_s:
            run.stopped_at = order + 1
            break
    run.seconds = spent / 1e9
    window.close()
    window.deleteLater()
    app.processEvents()
    return run


def incremental(turns: int, seed: int) -> Run:
    model = TranscriptModel()
    view = TranscriptView(model)
    run = measure("TranscriptView.apply", view, view.apply, model, turns, seed, None)
    bar = view.verticalScrollBar()
    print(f"  incremental end state: {view.document().blockCount():,} blocks, "
          f"{view.document().characterCount():,} characters, following the end: "
          f"{bar.value() == bar.maximum()}, text matches the model: "
          f"{view.plain_text() == model.plain_text(include_partial=False)}")
    return run


def naive(turns: int, seed: int, budget_s: float) -> Run:
    model = TranscriptModel()
    editor = QPlainTextEdit()
    editor.setReadOnly(True)
    editor.setUndoRedoEnabled(False)

    def render(_change: TranscriptChange) -> None:
        editor.setPlainText(model.plain_text())
        bar = editor.verticalScrollBar()
        bar.setValue(bar.maximum())

    return measure("naive setPlainText", editor, render, model, turns, seed, budget_s)


def percentile(ordered: list[int], share: float) -> float:
    """Nearest-rank percentile of sorted ns values, in ms."""
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index] / 1e6


def row(label: str, run: Run, first: int, last: int) -> str:
    chosen = [(total, call) for order, total, call in run.samples if first <= order < last]
    if not chosen:
        return f"{label:<22} {first + 1:>6,}-{last:<6,} {'(no data)':>9}"
    ns = sorted(total for total, _ in chosen)
    calls = sorted(call for _, call in chosen)
    return (f"{label:<22} {first + 1:>6,}-{last:<6,} {len(ns):>9,} {sum(ns) / len(ns) / 1e6:>8.3f} "
            f"{percentile(ns, 0.5):>8.3f} {percentile(ns, 0.99):>8.3f} {ns[-1] / 1e6:>8.2f} "
            f"{percentile(calls, 0.5):>8.3f} {percentile(calls, 0.99):>8.3f}")


def row_dict(label: str, run: Run, first: int, last: int) -> dict[str, object]:
    """``row`` as a result row (ms), for benchmarks/report.py."""
    chosen = [(total, call) for order, total, call in run.samples if first <= order < last]
    ns = sorted(total for total, _ in chosen)
    calls = sorted(call for _, call in chosen)
    return {
        "method": label, "turns": f"{first + 1:,}-{last:,}", "messages": len(ns),
        "mean ms": round(sum(ns) / len(ns) / 1e6, 3) if ns else None,
        "p50 ms": round(percentile(ns, 0.5), 3) if ns else None,
        "p99 ms": round(percentile(ns, 0.99), 3) if ns else None,
        "max ms": round(ns[-1] / 1e6, 3) if ns else None,
        "call p50 ms": round(percentile(calls, 0.5), 3) if calls else None,
        "call p99 ms": round(percentile(calls, 0.99), 3) if calls else None,
    }


def run(smoke: bool = False, turns: int | None = None, naive_turns: int | None = None,
        naive_seconds: float | None = None, seed: int = 7) -> dict[str, object]:
    """The benchmark as a result (benchmarks/report.py); smoke: 100 turns, naive 50 / 2 s."""
    turns = turns if turns is not None else (100 if smoke else 10_000)
    naive_turns = naive_turns if naive_turns is not None else (50 if smoke else 1_500)
    naive_seconds = naive_seconds if naive_seconds is not None else (2.0 if smoke else 60.0)
    _app = QApplication.instance() or QApplication(sys.argv[:1])
    fast = incremental(turns, seed)
    slow = naive(naive_turns, seed, naive_seconds)
    window = min(1_000, turns)
    rows = [row_dict("incremental apply()", fast, first, min(first + window, turns))
            for first in range(0, turns, window)]
    slow_turns = slow.stopped_at or naive_turns
    rows.append(row_dict("naive setPlainText()", slow, 0, min(window, slow_turns)))
    tail_start = max(0, slow_turns - min(500, slow_turns // 2))
    rows.append(row_dict("naive setPlainText()", slow, tail_start, slow_turns))
    last_fast = rows[len(rows) - 3]
    last_slow = rows[-1]
    headline: dict[str, object] = {"incremental p99 ms, last turns": last_fast["p99 ms"],
                                   "naive p99 ms, last turns run": last_slow["p99 ms"]}
    if isinstance(last_fast["p50 ms"], float) and isinstance(last_slow["p50 ms"], float) \
            and last_slow["p50 ms"] > 0:
        headline["p50 incremental / naive (at their last turns)"] = round(
            last_fast["p50 ms"] / last_slow["p50 ms"], 4)
    return {
        "name": "transcript_view",
        "rows": rows,
        "headline": headline,
        "notes": [
            f"Platform {QApplication.platformName()}, window {WINDOW[0]}x{WINDOW[1]}, "
            f"{turns:,} turns of 3-6 partials + 1 final each, seed {seed}: per message, "
            "view.apply(change) until the viewport has painted (call = apply alone).",
            f"Naive: QPlainTextEdit.setPlainText(model text) per message, stopped after "
            f"{slow_turns:,} turns ({slow.seconds:.1f} s of rendering).",
            f"Messages without a paint: incremental {fast.unpainted}, naive {slow.unpainted}.",
        ],
        "plots": [{"x": "method+turns", "y": ["p50 ms", "p99 ms"], "kind": "bar",
                   "title": "TranscriptView: message → painted (incremental, then naive)",
                   "ylabel": "ms"}],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--naive-turns", type=int, default=1_500)
    parser.add_argument("--naive-seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true",
                        help="the short version make bench --smoke runs (a report table)")
    args = parser.parse_args(argv)
    if args.smoke:
        from benchmarks.report import print_result

        print_result(run(smoke=True))
        return
    _app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"platform {QApplication.platformName()}, window {WINDOW[0]}x{WINDOW[1]}, "
          f"{args.turns:,} turns (3-6 partials + 1 final each), seed {args.seed}")
    fast = incremental(args.turns, args.seed)
    slow = naive(args.naive_turns, args.seed, args.naive_seconds)
    window = min(1_000, args.turns)
    slow_turns = slow.stopped_at or args.naive_turns
    print()
    print("per message, in ms: from the call until the viewport has painted (mean ... max), and")
    print("the call alone, before any painting (call p50, call p99)")
    print(f"{'method':<22} {'turns':>13} {'messages':>9} {'mean':>8} {'p50':>8} {'p99':>8} "
          f"{'max':>8} {'call p50':>8} {'call p99':>8}")
    for first in range(0, args.turns, window):  # every window: a trend would show here
        print(row("incremental apply()", fast, first, min(first + window, args.turns)))
    print(row("naive setPlainText()", slow, 0, min(window, slow_turns)))
    tail_start = max(0, slow_turns - min(500, slow_turns // 2))
    print(row("naive setPlainText()", slow, tail_start, slow_turns))
    print()
    print(f"incremental: {len(fast.samples):,} messages, {fast.seconds:.1f} s in total, "
          f"{fast.unpainted} without a paint")
    why = (f"stopped after {slow.seconds:.1f} s of rendering" if slow.stopped_at
           and slow.stopped_at < args.naive_turns else "reached the turn limit")
    print(f"naive: {len(slow.samples):,} messages over {slow_turns:,} turns, {why} "
          f"({slow.seconds:.1f} s in total), {slow.unpainted} without a paint")


if __name__ == "__main__":
    main()
