"""The real entry point in a separate process: ``python -m app.main`` with the command-line
modes, against the emulator (loopback) and the private PulseAudio virtual microphone."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer
from tests.support.pulse import PulseServer

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "tests" / "fixtures" / "hello.wav"
KEY = "cli-test-key"
SCRIPT = ("first sentence here", "second sentence there", "and the last words")


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=150),
    )
    with EmulatorThread(config) as emu:
        yield emu


def app_env(tmp_path: Path, emu: EmulatorThread | None = None, key: str = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASSEMBLYAI_API_KEY"}
    env.update({
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONUNBUFFERED": "1",
    })
    if emu is not None:
        env["LIVE_TRANSCRIBER_STREAMING_URL"] = emu.url
        env["ASSEMBLYAI_API_KEY"] = key
    return env


def run_app(*args: str, env: dict[str, str], timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


class LiveProcess:
    """A running app whose stdout lines can be awaited one by one (with a timeout)."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "app.main", *args], cwd=ROOT,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stderr: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, self.lines), (self.proc.stderr, self.errors)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _pump(stream: IO[str], sink: queue.Queue[str]) -> None:
        for line in stream:
            sink.put(line.rstrip("\n"))

    def wait_stderr(self, prefix: str, seconds: float = 15) -> str:
        while True:
            line = self.errors.get(timeout=seconds)
            self.stderr.append(line)
            if line.startswith(prefix):
                return line

    def next_line(self, seconds: float = 15) -> str:
        line = self.lines.get(timeout=seconds)
        self.seen.append(line)
        return line

    def finish(self, seconds: float = 20) -> tuple[int, list[str], str]:
        code = self.proc.wait(timeout=seconds)
        for source, target in ((self.lines, self.seen), (self.errors, self.stderr)):
            while True:
                try:
                    target.append(source.get(timeout=0.5))
                except queue.Empty:
                    break
        return code, self.seen, "\n".join(self.stderr)


def test_version() -> None:
    done = run_app("--version", env=dict(os.environ))
    assert done.returncode == 0 and done.stdout.startswith("live-transcriber 0.")


def test_list_devices_shows_the_sound_servers_sources(pulse_server: PulseServer,
                                                      tmp_path: Path) -> None:
    done = run_app("--list-devices", "--json", env=app_env(tmp_path))
    assert done.returncode == 0, done.stderr
    devices = json.loads(done.stdout)
    mic = next(d for d in devices if d["id"] == "vspeaker.monitor")
    assert mic["is_default"] and mic["host_api"] == "PulseAudio"
    assert mic["default_rate"] == 16000 and mic["channels"] == 1
    text = run_app("--list-devices", env=app_env(tmp_path))
    assert "* vspeaker.monitor" in text.stdout


def test_check_mic_records_and_reports_levels(pulse_server: PulseServer, tmp_path: Path) -> None:
    out = tmp_path / "check.wav"
    sink = pulse_server.load_sink("vcheck")
    try:
        player = pulse_server.play(HELLO, sink)
        done = run_app("--check-mic", "--device", sink.monitor, "--seconds", "2",
                       "--save-wav", str(out), env=app_env(tmp_path))
        player.wait(timeout=10)
    finally:
        pulse_server.unload(sink)
    assert done.returncode == 0, done.stderr
    assert "dropped frames: 0" in done.stdout
    peak = float(done.stdout.split("peak ")[1].split(" dBFS")[0])
    assert peak > -30, done.stdout
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.getnframes() >= 16000 * 1.5


def test_check_mic_keeps_portaudio_probing_off_the_terminal(pulse_server: PulseServer,
                                                          tmp_path: Path) -> None:
    env = app_env(tmp_path)
    # The control: on this machine a bare PortAudio start-up does print the probing noise.
    bare = subprocess.run([sys.executable, "-c", "import pyaudio; pyaudio.PyAudio().terminate()"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "ALSA lib" in bare.stderr
    done = run_app("--check-mic", "--seconds", "0.5", env=env)
    assert done.returncode == 0, done.stderr
    for noise in ("ALSA lib", "jack server", "Jack", "Cannot connect to server"):
        assert noise not in done.stderr, done.stderr
    # Nothing but the app's own line is left on stderr.
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        "Recording 0.5 s from Sound from vspeaker… speak now"]


def test_check_mic_says_speak_now_only_once_the_stream_is_open(pulse_server: PulseServer,
                                                              tmp_path: Path) -> None:
    # The capture code logs "capture opened" once PortAudio's stream runs; with logging shown on
    # the same stderr, the invitation to speak must come after it.
    program = ("import logging, sys\n"
               "logging.basicConfig(level=logging.INFO, format='log: %(message)s')\n"
               "from app.main import main\n"
               "sys.exit(main(['--check-mic', '--seconds', '0.5']))\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=app_env(tmp_path),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    opened = next(i for i, line in enumerate(lines) if line.startswith("log: capture opened"))
    speak = next(i for i, line in enumerate(lines) if line.startswith("Recording 0.5 s"))
    assert opened < speak, done.stderr
    assert lines[speak].endswith("speak now")


def test_headless_wav_prints_each_finished_turn(emulator: EmulatorThread,
                                                tmp_path: Path) -> None:
    done = run_app("--headless", "--wav", str(HELLO), "--fast", env=app_env(tmp_path, emulator))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["First sentence here.", "Second sentence there.",
                                        "And the last words."]
    assert "… first" in done.stderr  # partials go to stderr
    (autosaved,) = (tmp_path / "data" / "live-transcriber" / "transcripts").glob("*.txt")
    assert autosaved.read_text().split("\n\n")[0] == "First sentence here."


def test_headless_microphone_stops_on_sigint_and_keeps_the_last_words(
    emulator: EmulatorThread, pulse_server: PulseServer, tmp_path: Path,
) -> None:
    sink = pulse_server.load_sink("vheadless")
    try:
        app = LiveProcess("--headless", "--device", sink.monitor,
                          env=app_env(tmp_path, emulator))
        player = None
        try:
            # Speak until the first turn is printed, then interrupt mid-sentence.
            player = pulse_server.play(HELLO, sink)
            assert app.next_line() == "First sentence here."
            app.wait_stderr("… second")  # the next sentence has begun
            app.proc.send_signal(signal.SIGINT)
            code, lines, stderr = app.finish()
        finally:
            if app.proc.poll() is None:
                app.proc.kill()
            if player is not None:
                player.wait(timeout=10)
    finally:
        pulse_server.unload(sink)
    assert code == 0, stderr
    # What was being said when Ctrl+C came is flushed and printed, not lost.
    assert len(lines) >= 2, stderr
    assert lines[1].startswith("Second")
    (session,) = emulator.wait_sessions_closed(1)
    assert session.text_messages_received == ['{"type":"Terminate"}']


def test_headless_with_a_rejected_key_says_why(emulator: EmulatorThread, tmp_path: Path) -> None:
    done = run_app("--headless", "--wav", str(HELLO), "--fast",
                   env=app_env(tmp_path, emulator, key="wrong"))
    assert done.returncode == 1
    assert "AssemblyAI rejected the API key" in done.stderr
    assert "Settings" in done.stderr
    assert "wrong" not in done.stderr.replace("wrong-", "")


def test_headless_offline_engine_needs_no_key_and_no_network(tmp_path: Path) -> None:
    """No key, no service address: the offline engine transcribes the file on its own."""
    from tests.support.speech import load_fixture, word_error_rate

    library = load_fixture("library")
    env = app_env(tmp_path)
    env.pop("LIVE_TRANSCRIBER_STREAMING_URL", None)
    done = run_app("--headless", "--engine", "offline", "--wav", str(library.wav), "--fast",
                   env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "engine: offline" in done.stderr
    assert word_error_rate([library.reference], [done.stdout]) <= 0.1, done.stdout


# --- --file: any common audio or video format ---------------------------------------------


def progress_percents(stderr: str) -> list[int]:
    return [int(line.split()[1]) for line in stderr.splitlines() if line.startswith("progress:")]


def test_headless_file_mp3_offline_gives_the_words_and_progress_to_100(tmp_path: Path) -> None:
    """An MP3 made in the test from a committed WAV, transcribed offline with no key."""
    from tests.support.media import MP3, encode, read_wav_s16
    from tests.support.speech import load_fixture, word_error_rate

    library = load_fixture("library")
    pcm, rate = read_wav_s16(library.wav)
    mp3 = encode(pcm, rate, tmp_path / "library.mp3", MP3)
    done = run_app("--headless", "--engine", "offline", "--file", str(mp3), "--fast",
                   env=app_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert word_error_rate([library.reference], [done.stdout]) <= 0.1, done.stdout
    percents = progress_percents(done.stderr)
    assert percents == sorted(percents) and percents[-1] == 100, done.stderr
    assert len(percents) >= 5  # about one line per 10 %
    last = [line for line in done.stderr.splitlines() if line.startswith("progress:")][-1]
    assert last == "progress: 100 % (0:04 of 0:04, done)"
    # A whole file gets finals only: no words in progress (each sentence is decoded once).
    assert "… " not in done.stderr


@pytest.mark.parametrize("kind", ["FLAC", "OPUS", "MP4"])
def test_headless_file_offline_reads_flac_opus_and_a_video_track(tmp_path: Path,
                                                                 kind: str) -> None:
    from tests.support import media
    from tests.support.speech import load_fixture, word_error_rate

    library = load_fixture("library")
    pcm, rate = media.read_wav_s16(library.wav)
    how: media.MediaKind = getattr(media, kind)
    path = media.encode(pcm, rate, tmp_path / f"library{how.suffix}", how)
    done = run_app("--headless", "--engine", "offline", "--file", str(path),
                   env=app_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert word_error_rate([library.reference], [done.stdout]) <= 0.1, done.stdout
    percents = progress_percents(done.stderr)
    assert percents == sorted(percents) and percents[-1] == 100, done.stderr


def test_headless_wav_streams_a_video_track_to_the_cloud(emulator: EmulatorThread,
                                                         tmp_path: Path) -> None:
    """``--wav`` streams any format as if spoken (``--fast``: not paced)."""
    from tests.support.media import MP4, encode, read_wav_s16

    pcm, rate = read_wav_s16(HELLO)
    video = encode(pcm, rate, tmp_path / "hello.mp4", MP4)
    done = run_app("--headless", "--wav", str(video), "--fast",
                   env=app_env(tmp_path, emulator))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["First sentence here.", "Second sentence there.",
                                        "And the last words."]
    assert progress_percents(done.stderr)[-1] == 100


@pytest.mark.parametrize(("name", "make", "sentence"), [
    ("empty.mp3", "empty", "empty.mp3 is empty (0 bytes)."),
    ("missing.flac", "missing", "missing.flac does not exist."),
    ("notes.ogg", "text", "notes.ogg is not an audio or video file the app can read."),
    ("slides.mp4", "video-only", "slides.mp4 has no audio track."),
])
def test_headless_file_bad_input_says_one_sentence_and_saves_nothing(
    tmp_path: Path, name: str, make: str, sentence: str,
) -> None:
    from tests.support.media import video_only

    path = tmp_path / name
    if make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("these are meeting notes, not a recording\n" * 50)
    elif make == "video-only":
        video_only(path)
    done = run_app("--headless", "--engine", "offline", "--file", str(path), "--fast",
                   env=app_env(tmp_path), timeout=60)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {sentence} "), done.stderr
    assert "progress:" not in done.stderr and not done.stdout
    transcripts = tmp_path / "data" / "live-transcriber" / "transcripts"
    assert not transcripts.exists() or not any(transcripts.iterdir())


# --- --file in the cloud: the pre-recorded API ----------------------------------------------


def prerecorded_env(tmp_path: Path, url: str, key: str = KEY) -> dict[str, str]:
    env = app_env(tmp_path)
    env.update({"LIVE_TRANSCRIBER_API_URL": url, "ASSEMBLYAI_API_KEY": key,
                # A streaming session would go here and fail: proves it is not used.
                "LIVE_TRANSCRIBER_STREAMING_URL": "ws://127.0.0.1:9"})
    return env


def test_headless_file_in_the_cloud_uses_the_prerecorded_api(tmp_path: Path) -> None:
    from tests.emulator.prerecorded import PrerecordedConfig, PrerecordedEmulator
    from tests.support.media import FLAC, encode, read_wav_s16

    pcm, rate = read_wav_s16(HELLO)
    flac = encode(pcm, rate, tmp_path / "hello.flac", FLAC)
    config = PrerecordedConfig(api_keys=frozenset({KEY}),
                               script=("first sentence here", "second sentence there"))
    with PrerecordedEmulator(config) as api:
        done = run_app("--headless", "--file", str(flac), env=prerecorded_env(tmp_path, api.url))
        uploads = list(api.uploads.values())
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["First sentence here.", "Second sentence there."]
    assert uploads == [flac.read_bytes()]
    lines = done.stderr.splitlines()
    assert "engine: cloud (AssemblyAI pre-recorded API)" in lines
    assert "upload: 0 %" in lines and "upload: 100 %" in lines
    assert lines[-1] == "progress: 100 % (done)"
    kept = list((tmp_path / "data" / "live-transcriber" / "transcripts").glob("*.txt"))
    assert [p.read_text().split() for p in kept] == [
        "First sentence here. Second sentence there.".split()]


def test_headless_file_in_the_cloud_with_a_bad_key_exits_1_and_keeps_nothing(
        tmp_path: Path) -> None:
    from tests.emulator.prerecorded import PrerecordedConfig, PrerecordedEmulator

    with PrerecordedEmulator(PrerecordedConfig(api_keys=frozenset({KEY}))) as api:
        done = run_app("--headless", "--engine", "cloud", "--file", str(HELLO),
                       env=prerecorded_env(tmp_path, api.url, key="wrong-key-0123456789"))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: AssemblyAI rejected the API key")
    assert "wrong-key-0123456789" not in done.stderr and not done.stdout
    transcripts = tmp_path / "data" / "live-transcriber" / "transcripts"
    assert not transcripts.exists() or not any(transcripts.iterdir())


def save_engine(tmp_path: Path, engine: str) -> None:
    """The engine chosen in Settings, as the Settings dialog stores it (app/ui/preferences.py)."""
    ini = tmp_path / "config" / "live-transcriber" / "live-transcriber.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(f"[service]\nengine={engine}\n")


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_headless_file_uses_the_engine_saved_in_settings(tmp_path: Path) -> None:
    """Settings say Cloud: an unreachable cloud is an error, not a silent switch to offline."""
    save_engine(tmp_path, "cloud")
    done = run_app("--headless", "--file", str(HELLO),
                   env=prerecorded_env(tmp_path, closed_port_url()), timeout=120)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Nothing accepted the connection" in errors[0], done.stderr
    assert done.stderr.startswith("engine: cloud"), done.stderr
    assert "transcribed on this computer" not in done.stderr and not done.stdout


@pytest.mark.parametrize("saved, flags", [(None, ()), ("cloud", ("--engine", "auto"))],
                         ids=["automatic-by-default", "engine-auto-over-a-saved-cloud"])
def test_headless_file_automatic_falls_back_to_offline_when_the_cloud_is_unreachable(
        tmp_path: Path, saved: str | None, flags: tuple[str, ...]) -> None:
    from tests.support.speech import load_fixture, word_error_rate

    library = load_fixture("library")
    if saved is not None:
        save_engine(tmp_path, saved)
    done = run_app("--headless", *flags, "--file", str(library.wav),
                   env=prerecorded_env(tmp_path, closed_port_url()), timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("notice: AssemblyAI could not be reached, so library.wav is transcribed on this "
            "computer.") in done.stderr.splitlines()
    assert word_error_rate([library.reference], [done.stdout]) <= 0.1, done.stdout
