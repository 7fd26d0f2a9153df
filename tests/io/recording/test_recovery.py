"""Recovery on real files and real processes: a recording killed with SIGKILL mid-sentence is
found at the next start with every finished turn, ``--recover`` prints or exports it, and
nothing is ever deleted."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import pytest

from app.core.export import from_json, to_txt
from app.core.journal import RecoveryStore, end_line, header_line, parse_journal, turn_line
from app.core.transcript import TranscriptTurn
from app.io.recording.journal import (
    JournalFolder,
    dismiss,
    find_unfinished,
    load_journal,
    mark_recovered,
)
from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer

ROOT = Path(__file__).resolve().parents[3]
HELLO = ROOT / "tests" / "fixtures" / "hello.wav"
KEY = "recovery-test-key"
SCRIPT = ("first sentence here", "second sentence there", "and the last words")


def turn(order: int, text: str) -> TranscriptTurn:
    return TranscriptTurn(order=order, text=text, words=(), final=True, formatted=True,
                          start_ms=None, end_ms=None)


def crashed_journal(folder: Path, started: datetime, texts: list[str], torn: str = "") -> Path:
    """A journal as a killed process leaves it: no end record, maybe half a line."""
    folder.mkdir(exist_ok=True)
    path = folder / started.strftime("%Y-%m-%d_%H-%M-%S.journal.jsonl")
    lines = header_line(started, "cloud", "0.1.0") + "".join(
        turn_line(turn(n, text)) for n, text in enumerate(texts))
    path.write_text(lines + torn)
    return path


def test_unfinished_recordings_are_found_newest_first_with_a_torn_line_tolerated(
        tmp_path: Path) -> None:
    older = crashed_journal(tmp_path, datetime(2026, 12, 1, 9, 0, 0), ["older words"])
    newer = crashed_journal(tmp_path, datetime(2026, 12, 3, 9, 0, 0),
                            ["one two three", "four five six seven eight nine ten eleven twelve "
                             "thirteen"], torn='{"type":"turn","turn":{"segm')
    clean = crashed_journal(tmp_path, datetime(2026, 12, 2, 9, 0, 0), ["closed words"])
    with open(clean, "a") as file:
        file.write(end_line("closed", datetime(2026, 12, 2, 10, 0, 0)))
    crashed_journal(tmp_path / "empty", datetime(2026, 12, 4), [])  # no words: no offer

    found = find_unfinished(tmp_path)
    assert [f.journal for f in found] == [newer, older]
    first = found[0]
    assert first.started == datetime(2026, 12, 3, 9, 0, 0)
    assert first.turn_count == 2
    assert first.first_words == "one two three four five six seven eight nine ten eleven twelve …"
    assert first.text_file == tmp_path / "2026-12-03_09-00-00.txt"
    assert [t.text for t in load_journal(newer)] == [
        "one two three", "four five six seven eight nine ten eleven twelve thirteen"]


def test_recovering_closes_the_journal_and_rewrites_the_text_but_deletes_nothing(
        tmp_path: Path) -> None:
    journal = crashed_journal(tmp_path, datetime(2026, 12, 3, 9, 0, 0), ["kept one", "kept two"],
                              torn='{"type":"tu')
    stale_text = tmp_path / "2026-12-03_09-00-00.txt"
    stale_text.write_text("kept one\n")  # the crash came between the journal and the text
    assert mark_recovered(journal) == stale_text
    assert stale_text.read_text() == to_txt(load_journal(journal)) == "kept one\n\nkept two\n"
    read = parse_journal(journal.read_text())
    assert read.end == "recovered" and read.damaged_lines == 1  # the torn line, kept as it was
    assert find_unfinished(tmp_path) == []

    other = crashed_journal(tmp_path, datetime(2026, 12, 3, 10, 0, 0), ["not wanted"])
    dismiss(other)
    assert parse_journal(other.read_text()).end == "dismissed"
    assert find_unfinished(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-12-03_09-00-00.journal.jsonl", "2026-12-03_09-00-00.txt",
        "2026-12-03_10-00-00.journal.jsonl"]


def test_the_folder_offers_what_a_restore_button_needs(tmp_path: Path) -> None:
    store: RecoveryStore = JournalFolder(tmp_path)
    crashed_journal(tmp_path, datetime(2026, 12, 3, 9, 0, 0), ["restore me"])
    crashed_journal(tmp_path, datetime(2026, 12, 3, 8, 0, 0), ["dismiss me"])
    newest, older = store.unfinished()
    assert [t.text for t in store.load(newest)] == ["restore me"]
    assert store.restore(newest).read_text() == "restore me\n"
    store.dismiss(older)
    assert store.unfinished() == []
    assert len(list(tmp_path.iterdir())) == 3  # two journals and the restored text


# --- a real crash ----------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=150),
    )
    with EmulatorThread(config) as emu:
        yield emu


def app_env(tmp_path: Path, emu: EmulatorThread) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASSEMBLYAI_API_KEY"}
    env.update({
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONUNBUFFERED": "1",
        "LIVE_TRANSCRIBER_STREAMING_URL": emu.url,
        "ASSEMBLYAI_API_KEY": KEY,
    })
    return env


def run_app(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _pump(stream: IO[str], sink: queue.Queue[str]) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))


def test_a_recording_killed_mid_sentence_is_recovered_with_every_finished_turn(
        emulator: EmulatorThread, tmp_path: Path) -> None:
    env = app_env(tmp_path, emulator)
    # Paced in real time, like a microphone: the turns arrive seconds apart.
    app = subprocess.Popen([sys.executable, "-m", "app.main", "--headless", "--engine", "cloud",
                            "--wav", str(HELLO)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    printed: queue.Queue[str] = queue.Queue()
    partials: queue.Queue[str] = queue.Queue()
    assert app.stdout is not None and app.stderr is not None
    threading.Thread(target=_pump, args=(app.stdout, printed), daemon=True).start()
    threading.Thread(target=_pump, args=(app.stderr, partials), daemon=True).start()
    try:
        finished = [printed.get(timeout=30), printed.get(timeout=30)]
        # Kill while the third sentence is being spoken (two words in, 300 ms of audio after
        # the second turn ended): two finished turns, one in progress.
        while not partials.get(timeout=30).startswith("… and the"):
            pass
        app.send_signal(signal.SIGKILL)
        assert app.wait(timeout=30) == -signal.SIGKILL
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(timeout=30)
    assert finished == ["First sentence here.", "Second sentence there."]

    folder = tmp_path / "data" / "live-transcriber" / "transcripts"
    (unfinished,) = find_unfinished(folder)
    assert unfinished.turn_count == 2
    assert unfinished.first_words == "First sentence here. Second sentence there."
    assert [t.text for t in load_journal(unfinished.journal)] == finished
    # The text file too holds every finished turn (it is rewritten after each one).
    assert unfinished.text_file.read_text() == "\n\n".join(finished) + "\n"

    exported = tmp_path / "recovered.json"
    done = run_app("--recover", "--format", "json", "--out", str(exported), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert [t.text for t in from_json(exported.read_text())] == finished
    assert "Recovered the recording started" in done.stderr and "(2 turns)" in done.stderr

    again = run_app("--recover", env=env)  # recovered once: not offered again
    assert again.returncode == 0 and again.stdout == ""
    assert "No unfinished recording" in again.stderr
    assert unfinished.journal.exists() and unfinished.text_file.exists()  # nothing deleted


def test_recover_prints_the_newest_unfinished_recording(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "live-transcriber" / "transcripts"
    folder.mkdir(parents=True)
    crashed_journal(folder, datetime(2026, 12, 1, 9, 0, 0), ["the older one"])
    crashed_journal(folder, datetime(2026, 12, 3, 9, 0, 0), ["the newest one", "its end"])
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    done = run_app("--recover", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "the newest one\n\nits end\n"
    assert "1 older unfinished recording(s) remain" in done.stderr
    out = tmp_path / "older.txt"
    older = run_app("--recover", "--out", str(out), env=env)
    assert older.returncode == 0, older.stderr
    assert older.stdout == "" and out.read_text() == "the older one\n"
    assert "No unfinished recording" in run_app("--recover", env=env).stderr
