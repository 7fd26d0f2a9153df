"""``--headless --device both`` in a separate process: the microphone and system audio of a
private PulseAudio (a virtual microphone and the virtual output ``vspeaker``), two streaming
sessions against the emulator, "You: …"/"Others: …" lines on stdout, corrections on stderr;
and, offline on a machine with too few cores, one mixed stream, said on stderr."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.devices import BOTH_ID
from app.core.mixing import MixReason, mixed_notice, two_offline_streams
from tests.e2e.test_cli import LiveProcess, app_env, run_app
from tests.emulator import CodedRecognizer, EmulatorConfig, EmulatorThread
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.pulse import PulseServer, VirtualMicrophone, VirtualSink
from tests.support.speech import load_fixture, word_error_rate

KEY = "headless-voices-key"
SPEAKERS = VirtualSink("vspeaker", -1, 16_000, 1)  # the fixture's output (the default one)
LINE = re.compile(r"^(You|Others): (.*)$")
CORRECTION = re.compile(r"^correction: “(.*)” now reads “(.*)”$")


@pytest.fixture
def coded_emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(api_keys=frozenset({KEY}),
                            recognizer_factory=lambda p: CodedRecognizer(p.sample_rate))
    with EmulatorThread(config) as emu:
        yield emu


@pytest.fixture
def desk_microphone(pulse_server: PulseServer) -> Iterator[VirtualMicrophone]:
    mic = pulse_server.load_microphone("vclimic")
    try:
        yield mic
    finally:
        pulse_server.unload_microphone(mic)


def words(text: str) -> list[str]:
    return re.findall(r"n\d{3}", text.lower())


def run_call(pulse_server: PulseServer, mic: VirtualMicrophone, env: dict[str, str],
             you: Path, others: Path, *, mic_volume: float = 1.0, lines: int,
             extra: tuple[str, ...] = ()) -> tuple[int, list[str], str]:
    """Start ``--headless --device both``, play ``you`` into the microphone and ``others`` on
    the output at once, wait for ``lines`` paragraphs, then Ctrl+C."""
    app = LiveProcess("--headless", "--device", "both", *extra, env=env)
    try:
        app.wait_stderr("session ", 30)  # both streams are open before anyone speaks
        app.wait_stderr("session ", 30)
        players = [pulse_server.play(others, SPEAKERS),
                   pulse_server.play(you, mic.sink, volume=mic_volume)]
        for player in players:
            assert player.wait(timeout=30) == 0
        for _ in range(lines):
            app.next_line(30)
        app.proc.send_signal(signal.SIGINT)
        return app.finish(30)
    finally:
        if app.proc.poll() is None:
            app.proc.kill()


def test_headless_both_prints_you_and_others_lines(
    coded_emulator: EmulatorThread, pulse_server: PulseServer,
    desk_microphone: VirtualMicrophone, tmp_path: Path,
) -> None:
    you, others = [10, 11, 12, 13], [40, 41, 42, 43, 44]
    code, lines, stderr = run_call(
        pulse_server, desk_microphone, app_env(tmp_path, coded_emulator, KEY),
        write_coded_speech_wav(tmp_path / "you.wav", [you]),
        write_coded_speech_wav(tmp_path / "others.wav", [others]), lines=2)
    assert code == 0, stderr
    said = {(m.group(1), tuple(words(m.group(2)))) for m in map(LINE.match, lines) if m}
    assert said == {("You", tuple(coded_words([you]))), ("Others", tuple(coded_words([others])))}
    assert len(lines) == 2 and "correction:" not in stderr
    assert len(coded_emulator.wait_sessions_closed(2)) == 2  # one session per voice


def test_headless_both_echo_ends_as_one_others_line_with_any_correction_on_stderr(
    coded_emulator: EmulatorThread, pulse_server: PulseServer,
    desk_microphone: VirtualMicrophone, tmp_path: Path,
) -> None:
    """The speakers heard by the microphone: whichever stream's sentence comes first, what
    stdout printed plus the corrections on stderr read as one Others paragraph."""
    sentence = [70, 71, 72, 73]
    wav = write_coded_speech_wav(tmp_path / "sentence.wav", [sentence])
    code, lines, stderr = run_call(pulse_server, desk_microphone,
                                   app_env(tmp_path, coded_emulator, KEY), wav, wav,
                                   mic_volume=0.25, lines=1)
    assert code == 0, stderr
    shown = list(lines)
    for match in filter(None, map(CORRECTION.match, stderr.splitlines())):
        shown[shown.index(match.group(1))] = match.group(2)
    assert [(m.group(1), words(m.group(2))) for m in map(LINE.match, shown) if m] == [
        ("Others", coded_words([sentence]))]
    assert len(shown) == 1, (lines, stderr)


@pytest.mark.skipif(two_offline_streams(os.cpu_count()),
                    reason="with cores to spare the offline engine runs two streams")
def test_headless_both_offline_on_few_cores_says_it_mixes_and_prints_unlabelled_lines(
    pulse_server: PulseServer, desk_microphone: VirtualMicrophone, tmp_path: Path,
) -> None:
    hello = load_fixture("hello")
    env = app_env(tmp_path)
    env.pop("LIVE_TRANSCRIBER_STREAMING_URL", None)
    app = LiveProcess("--headless", "--device", "both", "--engine", "offline", env=env)
    try:
        assert app.wait_stderr("notice: ", 60) == f"notice: {mixed_notice(MixReason.FEW_CORES)}"
        app.wait_stderr("session ", 60)
        assert pulse_server.play(hello.wav, desk_microphone.sink).wait(timeout=30) == 0
        app.next_line(60)
        app.proc.send_signal(signal.SIGINT)
        code, lines, stderr = app.finish(60)
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
    assert code == 0, stderr
    assert not any(LINE.match(line) for line in lines)  # one mixed stream: no labels
    assert word_error_rate([hello.reference], [" ".join(lines)]) <= 0.2, lines


def test_list_devices_shows_the_combined_entry_and_its_two_parts(
    pulse_server: PulseServer, desk_microphone: VirtualMicrophone, tmp_path: Path,
) -> None:
    done = run_app("--list-devices", "--json", env=app_env(tmp_path))
    assert done.returncode == 0, done.stderr
    both = next(d for d in json.loads(done.stdout) if d["kind"] == "both")
    assert both["id"] == BOTH_ID and both["name"] == "Microphone + system audio"
    assert [p["id"] for p in both["parts"]] == ["vclimic", SPEAKERS.monitor]
    text = run_app("--list-devices", env=app_env(tmp_path)).stdout
    assert "Microphone + system audio" in text and "--device both" in text
