"""Autosave: every finished turn goes to disk as it settles, so a crash costs at most the
sentence in progress.

Two files per recording, named by its start time (:func:`autosave_name`), in a 0700 folder,
both 0600, created only once the first turn with words is finished (a start that fails, or a
recording without words, leaves nothing behind):

* the **journal** (``.journal.jsonl``, format in :mod:`app.core.journal`): append-only, one line
  per finished or revised turn, fsynced before the next one is taken; a header first and an end
  record when the recording closes cleanly. It is what recovery reads after a crash.
* the **text** (``.txt``): the transcript as Save… would write it, rewritten atomically from
  the transcript after each change (temporary file in the same folder, fsync, rename), so it
  always equals the transcript and is never half written.

Writes happen on one daemon thread, so neither the event loop nor interpreter exit ever waits
for a disk. The worker always writes towards the newest snapshot of the finished turns it was
given: changes that queue up while the disk is slow are coalesced, and after a failed write
(disk full, permission denied, I/O error: reported once, with that cause's sentence) the next
turn, or a bounded backoff, catches the files up from that snapshot, so they equal the
transcript again once the disk lets them. A failed journal append is cut back to its last
whole line, so the retry never glues a record to a torn one.

:meth:`TranscriptAutosave.close` is bounded (2 s by default): a worker stuck on a hung network
drive is left behind (it is a daemon thread), the caller is told the autosave may be
incomplete, and the process can still exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from app import __version__
from app.core.backoff import backoff
from app.core.errors import ExportError
from app.core.export import to_txt
from app.core.journal import (
    JOURNAL_SUFFIX,
    autosave_failure,
    autosave_incomplete,
    end_line,
    engine_line,
    header_line,
    journal_path_for,
    reset_line,
    turn_line,
)
from app.core.transcript import TranscriptChange, TranscriptTurn, TurnKey
from app.io.recording.files import replace_file

log = logging.getLogger(__name__)

DEFAULT_CLOSE_TIMEOUT = 2.0
_PRIVATE_FILE = 0o600
_PRIVATE_FOLDER = 0o700
_NAME_ATTEMPTS = 100


def autosave_name(started: datetime) -> str:
    return started.strftime("%Y-%m-%d_%H-%M-%S") + ".txt"


def retry_delays() -> Iterator[float]:
    """Waits between retries after a failed write: 0.5 s doubling to 30 s, forever."""
    return backoff(base=0.5, cap=30.0, jitter=False)


def private_folder(folder: Path) -> None:
    """Create ``folder`` (0700), or tighten it to 0700 when it is ours and open to others.

    Ours: owned by this user and holding nothing but autosaves, so a folder shared with other
    things (a home folder, ``/tmp``) is never changed behind anyone's back.
    """
    folder.mkdir(mode=_PRIVATE_FOLDER, parents=True, exist_ok=True)
    if sys.platform == "win32":
        return  # modes mean little there; the profile folder is private already
    status = folder.stat()
    if status.st_uid == os.getuid() and status.st_mode & 0o077 and _only_autosaves(folder):
        os.chmod(folder, _PRIVATE_FOLDER)


def _only_autosaves(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return all(entry.is_file(follow_symlinks=False)
                   and entry.name.endswith((".txt", JOURNAL_SUFFIX, ".tmp"))
                   for entry in entries)


def append_all(fd: int, offset: int, data: bytes) -> None:
    """Write all of ``data`` at ``offset`` (short writes continue) and fsync."""
    view = memoryview(data)
    os.lseek(fd, offset, os.SEEK_SET)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def hold_journal(fd: int) -> None:
    """Mark the journal as being written: recovery skips it while this process lives (the
    kernel drops the lock when the process dies, SIGKILL included). POSIX only."""
    if sys.platform != "win32":
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _sync_folder(folder: Path) -> None:
    # A new file's name is durable only once its folder is; Windows cannot open a folder.
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class TranscriptAutosave:
    """Keeps one recording's journal and text file equal to its finished turns."""

    def __init__(self, path: Path, on_error: Callable[[ExportError], None] | None = None, *,
                 started: datetime | None = None, engine: str | None = None,
                 close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
                 delays: Callable[[], Iterator[float]] = retry_delays) -> None:
        self._path = path  # may move to "<name>-2.txt" if the name is taken when created
        self._on_error = on_error
        self._started = started or datetime.now()
        self._engine = engine
        self._engine_written: str | None = None  # the engine the journal names last
        self._close_timeout = close_timeout
        self._delays = delays
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the worker waits for changes here
        self._synced = threading.Condition(self._lock)  # wait_synced() waits here
        # Shared under the lock: the newest snapshot and its number, what is on disk, closing.
        self._wanted: tuple[TranscriptTurn, ...] = ()
        self._wanted_number = 0
        self._synced_number = 0
        self._closing = False
        self._complete = False
        # The worker's own: the journal's descriptor, its size up to the last whole line,
        # and the turn object last written for each key (identity: turns are immutable).
        self._fd: int | None = None
        self._journal_size = 0
        self._written: dict[TurnKey, TranscriptTurn] = {}
        self._text_current = True
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="autosave", daemon=True)
        self._thread.start()

    @property
    def path(self) -> Path:
        """The text file (it exists once the first turn with words is finished)."""
        return self._path

    @property
    def journal_path(self) -> Path:
        return journal_path_for(self._path)

    def note_engine(self, engine: str) -> None:
        """The engine transcribing, known once its session begins ("cloud", "offline"): the
        journal's header names it, for the History. The header is written with the first
        finished words, so the engine that began before them is the one named; an engine that
        takes over later (Automatic's fallback) gets an engine record before its words."""
        with self._lock:
            self._engine = engine

    def apply(self, change: TranscriptChange, finals: Sequence[TranscriptTurn]) -> None:
        """Record one transcript change (call with each of ``change.steps()``). Never blocks on
        the disk: it hands a snapshot of ``finals`` to the worker."""
        if change.kind == "partial" or change.index is None:
            return
        snapshot = tuple(finals)
        with self._lock:
            if self._closing:
                log.warning("autosave already closed; change kept in memory only")
                return
            self._wanted = snapshot
            self._wanted_number += 1
            self._work.notify()

    def wait_synced(self, timeout: float) -> bool:
        """Wait until every change given so far is on disk; False if not within ``timeout``."""
        with self._lock:
            return self._synced.wait_for(
                lambda: self._synced_number == self._wanted_number, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Write what is pending, mark the journal closed cleanly and stop the worker.

        Waits at most ``timeout`` (default: the constructor's ``close_timeout``); a worker
        stuck longer is left behind and ``on_error`` hears that the autosave may be
        incomplete. True when the files hold the whole transcript and the end record.
        Blocks: call via ``asyncio.to_thread``.
        """
        with self._lock:
            self._closing = True
            self._work.notify()
        self._thread.join(self._close_timeout if timeout is None else timeout)
        if self._thread.is_alive():
            log.warning("autosave did not finish within the close timeout; left behind")
            self._report(autosave_incomplete(self._path.name, "the disk did not answer in time"))
            return False
        return self._complete

    # --- worker thread ----------------------------------------------------------------------

    def _run(self) -> None:
        delays: Iterator[float] | None = None  # set while the disk is failing
        attempted = 0  # the number of the snapshot last tried
        while True:
            with self._lock:
                while self._wanted_number == attempted and not self._closing:
                    if delays is None:
                        self._work.wait()
                    elif not self._work.wait(next(delays, 30.0)):
                        break  # no new turn within the backoff: retry with what we have
                snapshot, attempted, closing = self._wanted, self._wanted_number, self._closing
            try:
                self._write(snapshot)
                if closing:
                    self._end()
            except OSError as exc:
                if closing:
                    self._give_up(exc)
                    return
                self._failed(exc)
                delays = delays or self._delays()
                continue
            if self._failing:
                log.info("autosave caught up after a failed write")
            self._failing, delays = False, None
            with self._lock:
                self._synced_number = attempted
                self._synced.notify_all()
            if closing:
                self._complete = True
                return

    def _write(self, snapshot: tuple[TranscriptTurn, ...]) -> None:
        if self._fd is None:
            if not any(turn.text.strip() for turn in snapshot):
                return  # no words yet: no file yet
            self._create()
        lines: list[str] = []
        with self._lock:
            engine = self._engine
        if self._journal_size == 0:  # the header goes with the first turn, in one write
            lines.append(header_line(self._started, engine, __version__))
        elif engine is not None and engine != self._engine_written:
            lines.append(engine_line(engine))
        keys = {turn.key for turn in snapshot}
        cleared = any(key not in keys for key in self._written)  # the transcript was cleared
        written = {} if cleared else self._written
        if cleared:
            lines.append(reset_line())
        changed = [turn for turn in snapshot if written.get(turn.key) is not turn]
        lines.extend(turn_line(turn) for turn in changed)
        if lines:
            self._append("".join(lines))  # only once it is on disk does ``_written`` follow
            self._engine_written = engine
            self._written = written
            self._written.update((turn.key, turn) for turn in changed)
            self._text_current = False
        if not self._text_current:
            # errors="replace": text from the wire can hold a lone surrogate.
            replace_file(self._path, to_txt(snapshot).encode("utf-8", errors="replace"))
            self._text_current = True

    def _create(self) -> None:
        folder = self._path.parent
        private_folder(folder)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        name = self._path
        for attempt in range(1, _NAME_ATTEMPTS + 1):
            if attempt > 1:  # two recordings started in the same second: never share files
                name = self._path.with_name(f"{self._path.stem}-{attempt}{self._path.suffix}")
            if name.exists():
                continue
            try:
                fd = os.open(journal_path_for(name), flags, _PRIVATE_FILE)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError(f"no free autosave name beside {self._path.name}")
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _PRIVATE_FILE)  # exactly 0600, whatever the umask
        hold_journal(fd)
        self._fd, self._path = fd, name
        self._journal_size = 0
        _sync_folder(folder)

    def _append(self, text: str) -> None:
        assert self._fd is not None
        data = text.encode("utf-8", errors="replace")
        try:
            append_all(self._fd, self._journal_size, data)
        except OSError:
            # Cut a torn record off, so the retry starts on a line of its own. If even that
            # fails, the retry overwrites from the same offset and cuts again.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._journal_size)
            raise
        self._journal_size += len(data)

    def _end(self) -> None:
        if self._fd is None:
            return  # nothing was ever written: no files at all
        self._append(end_line("closed", datetime.now()))
        os.close(self._fd)
        self._fd = None

    def _failed(self, exc: OSError) -> None:
        reason = exc.strerror or type(exc).__name__
        if self._failing:
            log.info("autosave retry failed: %s", reason)
            return
        log.warning("autosave write failed: %s", reason)
        self._failing = True
        self._report(autosave_failure(self._path.name, exc.errno, reason))

    def _give_up(self, exc: OSError) -> None:
        reason = exc.strerror or type(exc).__name__
        log.warning("autosave could not finish: %s", reason)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
                if self._journal_size == 0:  # created, but not even the header fitted
                    os.unlink(self.journal_path)
            self._fd = None
        self._report(autosave_incomplete(self._path.name, f"the last write failed ({reason})"))

    def _report(self, error: ExportError) -> None:
        if self._on_error is not None:
            self._on_error(error)
