"""The headless mode as a separate process against a misbehaving service: it reconnects and
says so, never drops a file's audio, and ends every way it can end with the right status.

Coded speech (tests/support/coded_speech.py) is read back by the emulator's coded recogniser,
so every word can be counted in stdout: lost or doubled words show.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import ROOT, app_env, run_app
from tests.emulator import CodedRecognizer, EmulatorConfig, EmulatorThread
from tests.support.coded_speech import coded_words, write_coded_speech_wav

KEY = "headless-reliability-key"
SENTENCES = [[21, 22, 23], [24, 25, 26, 27], [28, 29, 30]]


def coded_emulator(**faults: object) -> EmulatorThread:
    values: dict[str, object] = {
        "api_keys": frozenset({KEY}),
        "recognizer_factory": lambda params: CodedRecognizer(params.sample_rate),
    }
    values.update(faults)
    return EmulatorThread(EmulatorConfig(**values))  # type: ignore[arg-type]


@pytest.fixture
def coded_wav(tmp_path: Path) -> Path:
    return write_coded_speech_wav(tmp_path / "coded.wav", SENTENCES)


@pytest.fixture
def emulator_factory() -> Iterator[list[EmulatorThread]]:
    started: list[EmulatorThread] = []
    yield started
    for emu in started:
        emu.stop()


def start(started: list[EmulatorThread], **faults: object) -> EmulatorThread:
    emu = coded_emulator(**faults)
    emu.start()
    started.append(emu)
    return emu


def words(stdout: str) -> list[str]:
    return re.findall(r"n\d{3}", stdout.lower())


def test_a_dropped_connection_mid_sentence_loses_no_word(
    tmp_path: Path, coded_wav: Path, emulator_factory: list[EmulatorThread],
) -> None:
    emu = start(emulator_factory, drop_after=1.5, fault_sessions=1)
    done = run_app("--headless", "--engine", "cloud", "--wav", str(coded_wav),
                   env=app_env(tmp_path, emu, KEY), timeout=60)
    assert done.returncode == 0, done.stderr
    assert words(done.stdout) == coded_words(SENTENCES)
    notices = [line for line in done.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 2, done.stderr  # one line for the drop, one for the reconnect
    assert "Reconnecting" in notices[0] and "Reconnected after" in notices[1]


def test_a_link_that_goes_silent_mid_sentence_loses_no_word(
    tmp_path: Path, emulator_factory: list[EmulatorThread],
) -> None:
    """A black-holed route: the socket stays open and nothing comes back, not even a pong.
    The process notices while the file still plays (not at its end), says so in one line,
    reconnects and prints every word once."""
    sentences = [[41, 42, 43, 44], [45, 46, 47, 48], [49, 50, 51, 52]]
    wav = write_coded_speech_wav(tmp_path / "coded-long.wav", sentences)
    emu = start(emulator_factory, stall_after=1.0, fault_sessions=1)
    done = run_app("--headless", "--engine", "cloud", "--wav", str(wav),
                   env=app_env(tmp_path, emu, KEY), timeout=90)
    assert done.returncode == 0, done.stderr
    assert emu.sessions[0].stalled
    assert words(done.stdout) == coded_words(sentences)
    notices = [line for line in done.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 2, done.stderr
    assert "stopped answering" in notices[0] and "catching up" in notices[1]


def test_a_fast_file_waits_for_a_slow_begin_and_sends_every_frame(
    tmp_path: Path, coded_wav: Path, emulator_factory: list[EmulatorThread],
) -> None:
    """--fast with Begin 0.8 s late: the file waits (back-pressure); nothing is dropped."""
    emu = start(emulator_factory, begin_delay=0.8)
    done = run_app("--headless", "--engine", "cloud", "--wav", str(coded_wav), "--fast",
                   env=app_env(tmp_path, emu, KEY), timeout=60)
    assert done.returncode == 0, done.stderr
    assert words(done.stdout) == coded_words(SENTENCES)
    audio_bytes = emu.audio_bytes_per_session
    assert audio_bytes == [coded_wav.stat().st_size - 44], audio_bytes


def test_closed_output_ends_the_recording_with_status_1(
    tmp_path: Path, coded_wav: Path, emulator_factory: list[EmulatorThread],
) -> None:
    """`live-transcriber --headless … | head -1`: the reader goes away; the app says so."""
    emu = start(emulator_factory)
    app = subprocess.Popen([sys.executable, "-m", "app.main", "--headless", "--engine", "cloud",
                            "--wav", str(coded_wav)], cwd=ROOT, env=app_env(tmp_path, emu, KEY),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert app.stdout is not None
    first = app.stdout.readline()
    app.stdout.close()  # as `head -1` exits
    _, stderr = app.communicate(timeout=60)
    assert words(first) == coded_words(SENTENCES[:1])
    assert app.returncode == 1, stderr
    assert "output was closed" in stderr
    assert "Traceback" not in stderr


def test_text_that_cannot_be_encoded_is_printed_with_a_replacement(
    tmp_path: Path, coded_wav: Path, emulator_factory: list[EmulatorThread],
) -> None:
    emu = start(emulator_factory, surrogate_after=0.5)
    done = run_app("--headless", "--engine", "cloud", "--wav", str(coded_wav),
                   env=app_env(tmp_path, emu, KEY), timeout=60)
    assert done.returncode == 0, done.stderr
    assert words(done.stdout) == coded_words(SENTENCES)
    # The partial line that carried it (stderr) shows a replacement character instead.
    assert re.search(r"n\d{3}[?\ufffd]", done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_during_a_connect_that_never_answers_ends_at_once(
    tmp_path: Path, coded_wav: Path, emulator_factory: list[EmulatorThread],
) -> None:
    emu = start(emulator_factory, withhold_begin=True)
    app = subprocess.Popen([sys.executable, "-m", "app.main", "--headless", "--engine", "cloud",
                            "--wav", str(coded_wav)], cwd=ROOT, env=app_env(tmp_path, emu, KEY),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    emu.wait_sessions_started(1, timeout=30)
    app.send_signal(signal.SIGINT)
    _, stderr = app.communicate(timeout=30)
    # Ctrl+C cancelled the connect: the Begin timeout never fired. Audio captured meanwhile was
    # never heard by an engine: status 1 saying so; before the first frame, nothing was lost.
    assert "did not start the session in time" not in stderr
    assert app.returncode in (0, 1), stderr
    if app.returncode == 1:
        assert "not transcribed" in stderr
    else:
        assert "error:" not in stderr
    assert "Traceback" not in stderr
