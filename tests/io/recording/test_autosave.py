"""The autosave on real files: the text equals the transcript and the journal holds every
finished turn; a full disk is reported once and caught up; close is bounded even when the disk
hangs; files are private; nothing empty is ever left behind."""

from __future__ import annotations

import itertools
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from app.core.errors import ExportError
from app.core.export import to_txt
from app.core.journal import parse_journal
from app.core.messages import Turn, Word
from app.core.transcript import TranscriptModel
from app.io.recording import autosave as autosave_module
from app.io.recording.autosave import TranscriptAutosave, autosave_name
from app.io.recording.journal import find_unfinished, load_journal

ROOT = Path(__file__).resolve().parents[3]
STARTED = datetime(2026, 12, 3, 20, 41, 7)


def quick_retries() -> Iterator[float]:
    return itertools.repeat(0.05)


class Errors:
    """Collects what the worker reports; ``arrived`` is set on the first report."""

    def __init__(self) -> None:
        self.items: list[ExportError] = []
        self.arrived = threading.Event()

    def __call__(self, error: ExportError) -> None:
        self.items.append(error)
        self.arrived.set()


class Speaker:
    """A transcript model fed with ``Turn`` messages, its changes forwarded to the autosave the
    way the Recorder forwards them."""

    def __init__(self, autosave: TranscriptAutosave) -> None:
        self.model = TranscriptModel()
        self.autosave = autosave

    def say(self, order: int, text: str, *, formatted: bool = False, final: bool = True) -> None:
        words = tuple(Word(w, order * 1000 + 100 * i, order * 1000 + 100 * i + 80, 0.9, final)
                      for i, w in enumerate(text.split()))
        change = self.model.apply(Turn(order, formatted, final, text, 0.9, words))
        assert change is not None
        for step in change.steps():
            self.autosave.apply(step, self.model.finals)

    def assert_saved(self) -> None:
        path = self.autosave.path
        assert path.read_text() == to_txt(self.model.finals)
        assert load_journal(self.autosave.journal_path) == list(self.model.finals)


def make(folder: Path, errors: Errors | None = None, **options: object) -> TranscriptAutosave:
    return TranscriptAutosave(folder / autosave_name(STARTED), errors, started=STARTED,
                              **options)  # type: ignore[arg-type]


def test_the_text_and_the_journal_follow_finals_revisions_and_late_turns(tmp_path: Path) -> None:
    speaker = Speaker(make(tmp_path, engine="cloud"))
    speaker.say(0, "hello there")
    speaker.say(0, "Hello there.", formatted=True)  # the revision replaces the paragraph
    speaker.say(2, "third turn")
    speaker.say(1, "a late second turn")  # out of order: placed before the third
    speaker.say(3, "words in progress", final=False)  # a partial is not saved
    assert speaker.autosave.wait_synced(10)
    speaker.assert_saved()
    assert speaker.autosave.close()
    journal = parse_journal(speaker.autosave.journal_path.read_text())
    assert journal.header is not None and journal.header.engine == "cloud"
    assert journal.header.started == STARTED
    assert journal.ended_cleanly and journal.damaged_lines == 0
    assert [t.text for t in journal.turns] == ["Hello there.", "a late second turn", "third turn"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-12-03_20-41-07.journal.jsonl", "2026-12-03_20-41-07.txt"]  # no temporary file


def test_a_cleared_transcript_is_cleared_in_the_journal_too(tmp_path: Path) -> None:
    speaker = Speaker(make(tmp_path))
    speaker.say(0, "words to forget")
    speaker.model.clear()
    speaker.say(1, "words to keep")
    assert speaker.autosave.close()
    speaker.assert_saved()
    assert [t.text for t in load_journal(speaker.autosave.journal_path)] == ["words to keep"]


def test_no_words_no_files(tmp_path: Path) -> None:
    folder = tmp_path / "transcripts"
    speaker = Speaker(make(folder))
    speaker.say(0, "still speaking", final=False)
    speaker.say(1, "")  # a turn without words settles the partial: it has words, so...
    assert speaker.autosave.close()
    assert [t.text for t in speaker.model.finals] == ["still speaking", ""]
    speaker.assert_saved()  # ...the files exist now, with the words only

    silent = make(tmp_path / "silent")
    silent_speaker = Speaker(silent)
    silent_speaker.say(0, "")
    assert silent.close()
    assert not (tmp_path / "silent").exists(), "a recording without words leaves nothing"


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    old_umask = os.umask(0)
    try:
        speaker = Speaker(make(folder))
        speaker.say(0, "private words")
        assert speaker.autosave.close()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert set(modes.values()) == {0o600}, modes


def test_an_open_autosave_folder_is_tightened_but_a_shared_one_is_left_alone(
        tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o755)
    os.chmod(ours, 0o755)
    (ours / "2025-01-01_10-00-00.txt").write_text("an older autosave\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    (shared / "notes").mkdir()  # something that is not an autosave
    for folder in (ours, shared):
        speaker = Speaker(make(folder))
        speaker.say(0, "words")
        assert speaker.autosave.close()
    assert stat.S_IMODE(ours.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_two_recordings_started_in_the_same_second_never_share_files(tmp_path: Path) -> None:
    first, second = Speaker(make(tmp_path)), Speaker(make(tmp_path))
    first.say(0, "first recording")
    assert first.autosave.wait_synced(10)
    second.say(0, "second recording")
    assert first.autosave.close() and second.autosave.close()
    assert second.autosave.path.name == "2026-12-03_20-41-07-2.txt"
    first.assert_saved()
    second.assert_saved()


def fill(folder: Path) -> Path:
    """Fill the file system holding ``folder`` until the kernel says ENOSPC."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as file:
        try:
            for _ in range(1024):
                file.write(b"\0" * 4096)
        except OSError:
            pass
        else:
            pytest.fail("the small file system never filled up")
    return filler


@pytest.mark.parametrize("catch_up_by", ["the next turn", "the backoff"])
def test_after_a_full_disk_it_reports_once_then_catches_up(
        tiny_filesystem: Path, catch_up_by: str) -> None:
    errors = Errors()
    folder = tiny_filesystem / "transcripts"
    speaker = Speaker(make(folder, errors, delays=quick_retries))
    speaker.say(0, "written before the disk filled")
    assert speaker.autosave.wait_synced(10)
    filler = fill(tiny_filesystem)
    for order in range(1, 6):  # sentences spoken while the disk is full
        speaker.say(order, f"sentence {order} while the disk is full " + "padding " * 20)
    assert errors.arrived.wait(10)
    filler.unlink()
    if catch_up_by == "the next turn":
        speaker.say(6, "the first sentence after space came back")
    assert speaker.autosave.wait_synced(10)
    speaker.assert_saved()
    assert speaker.autosave.close()
    (error,) = errors.items  # one report for the whole episode
    assert "the disk is full" in error.message and "catches up" in error.remedy
    journal = parse_journal(speaker.autosave.journal_path.read_text())
    assert journal.damaged_lines == 0, "a torn record was cut off before the retry"
    assert journal.ended_cleanly
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_a_close_while_the_disk_is_still_full_says_the_file_is_incomplete(
        tiny_filesystem: Path) -> None:
    errors = Errors()
    folder = tiny_filesystem / "transcripts"
    speaker = Speaker(make(folder, errors, delays=quick_retries))
    speaker.say(0, "saved words")
    assert speaker.autosave.wait_synced(10)
    fill(tiny_filesystem)
    speaker.say(1, "lost to the full disk " + "padding " * 60)  # more than a page
    assert errors.arrived.wait(10)
    assert not speaker.autosave.close()
    assert [e.message.split(":")[1].strip() for e in errors.items] == [
        "the disk is full.", "the last write failed (No space left on device)."]
    assert "may be incomplete" in errors.items[1].message
    assert [t.text for t in load_journal(speaker.autosave.journal_path)] == ["saved words"]


def test_close_is_bounded_when_the_disk_hangs(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    hung, release = threading.Event(), threading.Event()
    real_append = autosave_module.append_all

    def hanging_append(fd: int, offset: int, data: bytes) -> None:
        hung.set()
        release.wait(30)  # a network drive that stopped answering
        real_append(fd, offset, data)

    monkeypatch.setattr(autosave_module, "append_all", hanging_append)
    errors = Errors()
    speaker = Speaker(make(tmp_path, errors))
    speaker.say(0, "words for a hung disk")
    assert hung.wait(10)
    assert speaker.autosave.close(timeout=0.2) is False  # returned although the write hangs
    (error,) = errors.items
    assert "may be incomplete" in error.message and "did not answer" in error.message
    release.set()  # the disk answers again: the worker finishes what it had
    assert speaker.autosave.wait_synced(10)
    speaker.assert_saved()


def test_a_hung_disk_never_keeps_the_process_alive(tmp_path: Path) -> None:
    script = f"""
import threading
from pathlib import Path
from app.core.messages import Turn
from app.core.transcript import TranscriptModel
from app.io.recording import autosave
autosave.append_all = lambda *args: threading.Event().wait()  # hangs forever
saver = autosave.TranscriptAutosave(Path({str(tmp_path / "t.txt")!r}))
model = TranscriptModel()
change = model.apply(Turn(0, False, True, "words", 0.9, ()))
saver.apply(change, model.finals)
print("closed cleanly:", saver.close(timeout=0.5), flush=True)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "closed cleanly: False\n"


def test_a_live_recording_is_not_offered_for_recovery(tmp_path: Path) -> None:
    speaker = Speaker(make(tmp_path))
    speaker.say(0, "still recording")
    assert speaker.autosave.wait_synced(10)
    assert find_unfinished(tmp_path) == []  # held by this recording, not crashed
    assert speaker.autosave.close()
    assert find_unfinished(tmp_path) == []  # ended cleanly


@pytest.mark.skipif(not hasattr(os, "fork") or os.geteuid() != 0,
                    reason="needs root, to become another user in a child process")
def test_a_folder_we_may_not_write_is_reported_as_permission_denied(tmp_path: Path) -> None:
    """A real EACCES: a child process that is no longer root autosaves into root's 0700 folder
    (root itself bypasses permissions, so it must drop them)."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the sentences through the pipe, never return to pytest
        try:
            os.setegid(65534)
            os.seteuid(65534)
            errors = Errors()
            speaker = Speaker(make(locked / "transcripts", errors))
            speaker.say(0, "words with nowhere to go")
            errors.arrived.wait(10)
            speaker.autosave.close()
            os.write(write_end, "\n".join(str(e) for e in errors.items).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        reported = pipe.read().decode().splitlines()
    os.waitpid(pid, 0)
    assert reported, "the child reported nothing"
    assert "permission denied" in reported[0] and "writable" in reported[0]
    assert "disk space" not in reported[0] and "disk is full" not in reported[0]
    assert not (locked / "transcripts").exists()


def test_an_engine_that_takes_over_mid_recording_is_recorded_after_the_first(
    tmp_path: Path,
) -> None:
    """Automatic fell back to offline after the cloud's first words: the journal (what History
    lists) names both engines in the order they transcribed; a reconnect to the same engine
    adds nothing."""
    speaker = Speaker(make(tmp_path))
    speaker.autosave.note_engine("cloud")
    speaker.say(0, "said to the cloud")
    assert speaker.autosave.wait_synced(10)
    speaker.autosave.note_engine("offline")
    speaker.say(1, "said offline")
    assert speaker.autosave.wait_synced(10)
    speaker.autosave.note_engine("offline")  # a new offline session: the same engine
    speaker.say(2, "said offline again")
    assert speaker.autosave.close()
    journal = parse_journal(speaker.autosave.journal_path.read_text())
    assert journal.header is not None and journal.header.engine == "cloud"
    assert journal.engines == ("cloud", "offline")
    assert journal.damaged_lines == 0
    speaker.assert_saved()
