"""The real window (offscreen) driven like a person would, against the local emulator, with a
real Secret Service keyring and a real PulseAudio sound server for the device picker.

Audio comes from a WAV file played at real time through the same source interface as the
microphone (the microphone path itself is covered in tests/e2e)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QtMsgType
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.auth import AuthState
from app.core.config import EngineChoice
from app.core.devices import InputDevice
from app.core.export import Format, from_json
from app.core.recording import RecorderState
from app.core.subtitles import parse_srt, parse_vtt
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore, open_secret_store
from app.ui.app_window import build_window, run_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.ui.services import Services
from app.wiring import services, wav_file
from tests.emulator import EmulatorConfig, EmulatorThread, ScriptedRecognizer
from tests.support.pulse import PulseServer
from tests.support.secret_service import SecretServiceSession
from tests.ui.conftest import QtLoop, signal_until

KEY = "window-test-key-0123456789"
SCRIPT = ("good morning everyone", "this is the live transcriber", "thank you")
HELLO = Path(__file__).parents[1] / "fixtures" / "hello.wav"  # 3.1 s


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(
        api_keys=frozenset({KEY}),
        recognizer_factory=lambda params: ScriptedRecognizer(SCRIPT, ms_per_word=200),
    )
    with EmulatorThread(config) as emu:
        yield emu


@pytest.fixture
def preferences(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def keyring_clean(secret_service: SecretServiceSession) -> Iterator[None]:
    open_secret_store().delete()
    yield
    open_secret_store().delete()


def window_services(tmp_path: Path, **changes: object) -> Services:
    built = services(tmp_path / "autosave", env_key=None)
    built.make_source = lambda device: wav_file(HELLO, realtime=True)
    return replace(built, **changes)  # type: ignore[arg-type]


def make_window(emu: EmulatorThread | str, tmp_path: Path, preferences: Preferences,
                **changes: object) -> MainWindow:
    url = emu if isinstance(emu, str) else emu.url
    window = build_window(TranscriptModel(), window_services(tmp_path, **changes),
                          {"LIVE_TRANSCRIBER_STREAMING_URL": url}, preferences)
    window.resize(800, 500)
    window.show()
    return window


def cloud(preferences: Preferences) -> None:
    preferences.save(replace(preferences.load(), engine=EngineChoice.CLOUD))


def current_state(window: MainWindow) -> AuthState:
    # A function call, so mypy does not narrow the property between two reads.
    return window.controller.auth_status.state


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{sock.getsockname()[1]}"


def test_record_stop_copy_and_save_every_format(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    keyring_clean: None, pulse_server: PulseServer,
) -> None:
    cloud(preferences)  # the person chose AssemblyAI (Automatic would start offline: no key)
    window = make_window(emulator, tmp_path, preferences)
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        assert current_state(window) is AuthState.NO_KEY
        # The device picker lists the sound server's sources, default marked.
        assert window.device_picker.count() >= 1
        assert "(system default)" in window.device_picker.itemText(
            window.device_picker.currentIndex())

        check = await controller.save_key(KEY)  # validated against the emulator, then stored
        assert check.error is None
        assert open_secret_store().load() == KEY
        assert current_state(window) is AuthState.VALID

        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.RECORDING)
        assert window.record_button.text() == "&Stop recording"
        await signal_until(controller.transcript_changed, lambda c: c.kind == "partial")
        assert window.transcript_view.toPlainText().strip(), "partial words are shown"
        # The second sentence settles in its formatted form (the 2025 two-message turn end).
        await signal_until(controller.transcript_changed,
                           lambda c: c.kind == "revised" and c.index == 1)
        # The WAV plays in real time, so this far into it more than a second has passed; at
        # the window's next clock tick the label shows the controller's elapsed time.
        before = controller.elapsed_seconds
        assert before >= 1
        await signal_until(window._elapsed_timer.timeout)
        after = controller.elapsed_seconds
        minutes, seconds = window.elapsed_label.text().split(":")
        assert int(before) <= int(minutes) * 60 + int(seconds) <= int(after)
        window.record_button.click()  # Stop
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 15)

    qt_loop.run(scenario())
    model = controller.model
    assert [t.text for t in model.finals][:2] == ["Good morning everyone.",
                                                  "This is the live transcriber."]
    assert window.transcript_view.plain_text() == model.plain_text(include_partial=False)
    assert window.record_button.text() == "&Start recording"

    window.copy_button.click()
    assert QApplication.clipboard().text() == model.plain_text()

    for fmt in Format:
        path = tmp_path / f"out{fmt.suffix}"
        assert qt_loop.run(window.commands.save_to(path, fmt))
        text = path.read_text()
        if fmt is Format.TXT:
            assert text.split("\n\n")[0] == "Good morning everyone."
        elif fmt is Format.SRT:
            assert " ".join(c.text for c in parse_srt(text)).startswith("Good morning everyone.")
        elif fmt is Format.VTT:
            assert " ".join(c.text for c in parse_vtt(text)).startswith("Good morning everyone.")
        else:
            assert [t.text for t in from_json(text)] == [t.text for t in model.finals]
            assert json.loads(text)
    assert preferences.last_folder() == tmp_path

    autosaved = list((tmp_path / "autosave").glob("*.txt"))  # its journal lies beside it
    assert len(autosaved) == 1
    assert autosaved[0].read_text() == model.plain_text(include_partial=False) + "\n"
    # Session details (the autosave path among them) are one hover away, not raw in the bar.
    assert f"Autosave: {autosaved[0]}" in window.session_label.toolTip()
    qt_loop.run(controller.shutdown())


@pytest.mark.parametrize("how", [None, signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["close-button", "SIGTERM", "SIGINT", "SIGHUP"])
def test_closing_mid_recording_keeps_the_last_words_and_leaves_nothing_running(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    qtlog: Any, caplog: pytest.LogCaptureFixture, how: signal.Signals | None,
) -> None:
    """The title bar's close button while recording, or a signal that asks the app to end:
    log-out (SIGTERM), Ctrl+C in its terminal (SIGINT), that terminal closing (SIGHUP). The
    recording stops as Stop would (the last words arrive, the session ends with Terminate),
    the autosave holds them, and nothing is left running, instead of the process ending
    mid-sentence."""
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore(),
                         env_key=KEY)
    before = signal.getsignal(how) if how is not None else None

    async def scenario() -> None:
        running = asyncio.ensure_future(run_window(window))
        await signal_until(window.controller.auth_changed,
                           lambda s: s.state is AuthState.VALID)
        window.record_button.click()
        await signal_until(window.controller.transcript_changed, lambda c: c.kind == "partial")
        if how is None:
            window.close()  # as the title bar's close button would
        else:
            # Guard: with no handler in place the signal would end this test process instead.
            assert signal.getsignal(how) not in (signal.SIG_DFL, before, signal.SIG_IGN)
            os.kill(os.getpid(), how)
        await running
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == [], f"tasks left running: {others}"

    try:
        qt_loop.run(scenario())
    finally:
        if how is not None:
            signal.signal(how, before)
    assert not window.isVisible()
    qt_warnings = [r.message for r in qtlog.records if r.type != QtMsgType.QtDebugMsg
                   and "propagateSizeHints" not in r.message]  # offscreen plugin noise
    assert qt_warnings == []
    assert "Task was destroyed" not in caplog.text
    (session,) = emulator.wait_sessions_closed(1)
    assert session.text_messages_received == ['{"type":"Terminate"}']
    assert session.close_code == 1000
    model = window.controller.model
    assert model.finals and model.partial is None
    (autosaved,) = (tmp_path / "autosave").glob("*.txt")  # its journal lies beside it
    assert autosaved.read_text() == model.plain_text(include_partial=False) + "\n"


@pytest.mark.parametrize("case", ["rejected", "unreachable", "no-keyring"])
def test_auth_indicator_states(
    case: str, qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path,
    preferences: Preferences,
) -> None:
    url = closed_port_url() if case == "unreachable" else emulator.url
    store = SessionOnlyStore()
    if case != "no-keyring":
        store.save("not-the-right-key" if case == "rejected" else KEY)
    cloud(preferences)
    window = make_window(url, tmp_path, preferences, secret_store=store)
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        if case == "no-keyring":
            assert controller.key_is_session_only
            assert current_state(window) is AuthState.NO_KEY
            await controller.save_key(KEY)
        await controller.shutdown()

    qt_loop.run(scenario())
    status = window.controller.auth_status
    expected = {"rejected": AuthState.REJECTED, "unreachable": AuthState.UNREACHABLE,
                "no-keyring": AuthState.VALID}[case]
    assert status.state is expected
    # The engine indicator carries the key's state and its cause and fix.
    assert status.tooltip in window.engine_status.toolTip()
    if case == "rejected":
        assert "Invalid API key" in status.tooltip and "Settings" in status.tooltip
    if case == "no-keyring":
        assert "session only" in status.tooltip
        assert store.load() == KEY


def test_start_without_a_key_says_what_to_do(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
) -> None:
    cloud(preferences)
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore())

    async def scenario() -> None:
        await window.controller.initialize()
        window.record_button.click()
        await window.controller.shutdown()

    qt_loop.run(scenario())
    assert window.controller.state is RecorderState.IDLE
    assert "No AssemblyAI API key" in window.message_bar.text("error")
    assert window.record_button.text() == "&Start recording"


def test_remembered_device_missing_shows_a_notice(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    pulse_server: PulseServer,
) -> None:
    preferences.save(replace(preferences.load(), device_id="alsa_input.usb-gone.analog-stereo"))
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore())

    async def scenario() -> None:
        await window.controller.initialize()
        await window.controller.shutdown()

    qt_loop.run(scenario())
    assert window.device_notice.isVisibleTo(window)
    assert "not connected" in window.device_notice.text()
    device = window.controller.device
    assert isinstance(device, InputDevice) and device.is_default


def test_clear_asks_before_dropping_unsaved_text(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore(),
                         env_key=KEY)
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        window.record_button.click()
        await signal_until(controller.transcript_changed, lambda c: c.kind == "final")
        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 15)
        await controller.shutdown()

    qt_loop.run(scenario())
    asked: list[str] = []

    def answer(choice: QMessageBox.StandardButton) -> object:
        def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
            asked.append(str(args[2]))
            return choice
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    window.clear_button.click()
    assert asked
    assert controller.model.word_count > 0  # "No" kept everything
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    window.clear_button.click()
    assert controller.model.word_count == 0
    assert window.transcript_view.toPlainText() == ""


def test_device_picker_follows_hot_plug(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    pulse_server: PulseServer,
) -> None:
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore())
    picker = window.device_picker

    def ids() -> list[str]:
        return [str(picker.itemData(i)) for i in range(picker.count())]

    async def scenario() -> None:
        await window.controller.initialize()
        assert "vplugged.monitor" not in ids()
        sink = await asyncio.to_thread(pulse_server.load_sink, "vplugged")
        try:
            await signal_until(window.controller.devices_changed,
                               lambda devices, choice: any(d.id == sink.monitor
                                                           for d in devices))
            assert sink.monitor in ids()
        finally:
            await asyncio.to_thread(pulse_server.unload, sink)
        await signal_until(window.controller.devices_changed,
                           lambda devices, choice: all(d.id != sink.monitor for d in devices))
        assert sink.monitor not in ids()
        await window.controller.shutdown()

    qt_loop.run(scenario())


def test_no_sound_server_is_explained_not_fatal(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
) -> None:
    from app.io.devices.pulse import PulseDeviceProvider

    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore(),
                         device_provider=PulseDeviceProvider(server="unix:/nonexistent/pulse"))

    async def scenario() -> None:
        await window.controller.initialize()
        await window.controller.shutdown()

    qt_loop.run(scenario())
    assert "Could not reach the sound server" in window.message_bar.text("error")
    assert "No microphone was found" in window.device_notice.text()
    assert window.device_picker.count() == 0


def test_without_a_key_the_window_transcribes_offline(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    """A new user with no key and no network: Automatic picks the offline engine."""
    from tests.support.speech import load_fixture, word_error_rate

    library = load_fixture("library")
    window = make_window(closed_port_url(), tmp_path, preferences,
                         secret_store=SessionOnlyStore(),
                         make_source=lambda device: wav_file(library.wav, realtime=False))
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        assert current_state(window) is AuthState.OFFLINE
        assert window.controller.auth_status.text == "Offline — no key needed"
        assert window.engine_picker.isVisible()
        assert window.engine_picker.currentText() == "Automatic"
        window.record_button.click()
        # The whole file is in the engine at once (not paced); the first partial decode
        # means it is being recognised. Stop then finalises every word.
        await signal_until(controller.transcript_changed, lambda c: c.kind == "partial", 60)
        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 60)
        await controller.shutdown()

    qt_loop.run(scenario(), timeout=120)
    text = controller.model.plain_text()
    assert word_error_rate([library.reference], [text]) <= 0.1, text
    assert current_state(window) is AuthState.OFFLINE  # no "key rejected" after offline use


def test_choosing_offline_is_remembered(
    qt_loop: QtLoop, emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
) -> None:
    window = make_window(emulator, tmp_path, preferences, secret_store=SessionOnlyStore(),
                         env_key=KEY)

    async def scenario() -> None:
        await window.controller.initialize()
        assert current_state(window) is AuthState.VALID
        window.engine_picker.setCurrentIndex(window.engine_picker.findData("offline"))
        window.engine_picker.activated.emit(window.engine_picker.currentIndex())
        await signal_until(window.controller.auth_changed,
                           lambda s: s.state is AuthState.OFFLINE)
        await window.controller.shutdown()

    qt_loop.run(scenario())
    assert preferences.load().engine is EngineChoice.OFFLINE
