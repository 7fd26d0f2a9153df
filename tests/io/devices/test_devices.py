"""Device listing and hot-plug against a real PulseAudio server (the ``pulse_server`` fixture).

Every wait is on a ``threading.Event`` with a timeout; sinks a test loads are unloaded in
``finally`` so later tests see only ``vspeaker``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyaudio
import pytest

from app.core.devices import InputDevice, choose_device
from app.core.errors import AudioError
from app.io.devices import portaudio as devices_portaudio
from app.io.devices import pulse as devices_pulse
from app.io.devices.platform import default_provider
from app.io.devices.portaudio import PollingWatcher, PortAudioDeviceProvider, unique_ids
from app.io.devices.pulse import PulseDeviceProvider
from tests.support.pulse import PulseServer, VirtualSink

MIC = "vspeaker.monitor"
NO_SERVER = "unix:/nonexistent/pulse/native"


class ChangeRecorder:
    """An ``on_change`` that counts calls and lets a test wait for the next one."""

    def __init__(self, action: Callable[[], None] | None = None) -> None:
        self.calls = 0
        self._event = threading.Event()
        self._action = action

    def __call__(self) -> None:
        self.calls += 1
        if self._action is not None:
            self._action()
        self._event.set()

    def wait(self, timeout: float = 2.0) -> bool:
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired


def watcher_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


@contextmanager
def loaded_sink(server: PulseServer, name: str, **spec: int) -> Iterator[VirtualSink]:
    sink = server.load_sink(name, **spec)
    try:
        yield sink
    finally:
        server.unload(sink)


def ids(devices: list[InputDevice]) -> list[str]:
    return [d.id for d in devices]


# --- PulseDeviceProvider: listing --------------------------------------------------------------


def test_lists_the_virtual_microphone_as_default_monitor(pulse_server: PulseServer) -> None:
    devices = PulseDeviceProvider().list_devices()

    assert devices[0] == InputDevice(
        id=MIC,
        name="Sound from vspeaker",
        host_api="PulseAudio",
        channels=1,
        default_rate=16_000,
        is_default=True,
        is_monitor=True,
        kind="system",
        is_default_output=True,  # vspeaker is the server's only (so default) output
    )
    assert [d for d in devices if d.is_default] == [devices[0]]


def test_ids_are_stable_across_calls_and_providers(pulse_server: PulseServer) -> None:
    first = PulseDeviceProvider().list_devices()
    provider = PulseDeviceProvider()

    assert provider.list_devices() == first
    assert provider.list_devices() == first


def test_each_source_reports_its_own_sample_spec_and_order(pulse_server: PulseServer) -> None:
    # pulsectl's own source_list() reports the last source's spec for all of them (its
    # sample_spec is a view into reused memory): three different specs catch that.
    module = pulse_server.pactl(
        "load-module",
        "module-null-source",
        "source_name=vmic",
        "rate=44100",
        "channels=2",
        "description='Virtual Mic'",
    )
    try:
        with loaded_sink(pulse_server, "vwide", rate=48_000, channels=2):
            devices = PulseDeviceProvider().list_devices()
    finally:
        pulse_server.pactl("unload-module", module)

    assert ids(devices) == [MIC, "vmic", "vwide.monitor"]  # default, microphones, monitors
    specs = {d.id: (d.default_rate, d.channels, d.is_monitor, d.name) for d in devices}
    assert specs == {
        MIC: (16_000, 1, True, "Sound from vspeaker"),
        "vmic": (44_100, 2, False, "Virtual Mic"),
        "vwide.monitor": (48_000, 2, True, "Sound from vwide"),
    }


def test_choose_device_uses_the_live_list(pulse_server: PulseServer) -> None:
    devices = PulseDeviceProvider().list_devices()

    remembered = choose_device(devices, MIC)
    assert remembered.device is not None and remembered.device.id == MIC
    assert remembered.notice == ""

    missing = choose_device(devices, "alsa_input.usb-Gone_Mic-00.analog-stereo")
    assert missing.device is not None and missing.device.id == MIC
    assert "not connected" in missing.notice and "Sound from vspeaker" in missing.notice


def test_no_sound_server_is_a_plain_audio_error() -> None:
    provider = PulseDeviceProvider(server=NO_SERVER)

    with pytest.raises(AudioError) as caught:
        provider.list_devices()
    assert caught.value.message == "Could not reach the sound server (PulseAudio/PipeWire)."
    assert "PulseAudio or PipeWire is running" in caught.value.remedy
    with pytest.raises(AudioError):
        provider.start_watching(ChangeRecorder())
    assert watcher_threads(devices_pulse.WATCHER_THREAD_NAME) == []


def test_default_provider_on_linux_is_the_sound_server(pulse_server: PulseServer) -> None:
    provider = default_provider()

    assert isinstance(provider, PulseDeviceProvider)
    assert MIC in ids(provider.list_devices())


# --- PulseDeviceProvider: hot-plug -------------------------------------------------------------


def test_hot_plug_reports_a_new_sink_and_its_removal(pulse_server: PulseServer) -> None:
    default_before = pulse_server.default_source()
    provider = PulseDeviceProvider()
    changes = ChangeRecorder()
    provider.start_watching(changes)
    [thread] = watcher_threads(devices_pulse.WATCHER_THREAD_NAME)
    try:
        sink = pulse_server.load_sink("vhotplug")
        try:
            assert changes.wait(2.0), "no on_change within 2 s of loading a sink"
            assert "vhotplug.monitor" in ids(provider.list_devices())
            # one sink = a new source plus a change to it: coalesced, not one call per event
            assert 1 <= changes.calls <= 2
        finally:
            pulse_server.unload(sink)
        assert changes.wait(2.0), "no on_change within 2 s of unloading the sink"
        assert "vhotplug.monitor" not in ids(provider.list_devices())
    finally:
        started = time.monotonic()
        provider.stop_watching()
        stopped_after = time.monotonic() - started
    assert stopped_after < 1.0
    assert not thread.is_alive()
    assert pulse_server.default_source() == default_before == MIC


def test_provider_never_changes_the_default_source(pulse_server: PulseServer) -> None:
    before = pulse_server.default_source()
    provider = PulseDeviceProvider()
    changes = ChangeRecorder()
    provider.list_devices()
    provider.start_watching(changes)
    try:
        with loaded_sink(pulse_server, "vdefault"):
            assert changes.wait(2.0)
            chosen = choose_device(provider.list_devices(), "vdefault.monitor").device
            assert chosen is not None and not chosen.is_default
        assert changes.wait(2.0)
    finally:
        provider.stop_watching()
    assert pulse_server.default_source() == before == MIC


def test_watching_twice_is_refused(pulse_server: PulseServer) -> None:
    provider = PulseDeviceProvider()
    provider.start_watching(ChangeRecorder())
    try:
        with pytest.raises(RuntimeError):
            provider.start_watching(ChangeRecorder())
    finally:
        provider.stop_watching()
    provider.stop_watching()  # a second stop is harmless
    assert watcher_threads(devices_pulse.WATCHER_THREAD_NAME) == []


def test_stop_watching_from_on_change_does_not_deadlock(pulse_server: PulseServer) -> None:
    provider = PulseDeviceProvider()
    changes = ChangeRecorder(action=provider.stop_watching)
    provider.start_watching(changes)
    [thread] = watcher_threads(devices_pulse.WATCHER_THREAD_NAME)
    try:
        with loaded_sink(pulse_server, "vselfstop"):
            assert changes.wait(2.0)
            thread.join(1.0)
    finally:
        provider.stop_watching()
    assert not thread.is_alive()
    assert changes.calls == 1


def test_watcher_ends_with_one_call_when_the_server_goes_away(pulse_server: PulseServer) -> None:
    # A second, private server that this test may kill; the session's server stays up.
    runtime = Path(tempfile.mkdtemp(prefix="lt-pulse-gone-"))
    doomed = PulseServer(runtime)
    running = False
    try:
        doomed.start()
        running = True
        provider = PulseDeviceProvider(server=doomed.env["PULSE_SERVER"])
        assert provider.list_devices() == []  # no sinks loaded there
        changes = ChangeRecorder()
        provider.start_watching(changes)
        [thread] = watcher_threads(devices_pulse.WATCHER_THREAD_NAME)
        doomed.stop()
        running = False
        assert changes.wait(2.0), "no on_change within 2 s of the server going away"
        thread.join(1.0)
        assert not thread.is_alive()
        assert changes.calls == 1
        with pytest.raises(AudioError):
            provider.list_devices()
        provider.stop_watching()
    finally:
        if running:
            doomed.stop()
        shutil.rmtree(runtime, ignore_errors=True)
    assert os.environ["PULSE_SERVER"] == pulse_server.env["PULSE_SERVER"]


# --- PortAudioDeviceProvider -------------------------------------------------------------------


def test_portaudio_lists_alsa_pulse_and_default(pulse_server: PulseServer) -> None:
    devices = PortAudioDeviceProvider().list_devices()

    assert {"ALSA:pulse", "ALSA:default"} <= set(ids(devices))
    assert [d.id for d in devices if d.is_default] == ["ALSA:default"]
    assert devices[0].is_default
    for device in devices:
        assert device.id == f"{device.host_api}:{device.name}"
        assert device.channels > 0 and device.default_rate > 0
    assert PortAudioDeviceProvider().list_devices() == devices


def test_portaudio_skips_the_rescan_while_a_stream_is_open(pulse_server: PulseServer) -> None:
    opened: list[Any] = []
    stream_open = False

    def counting_pyaudio() -> Any:
        opened.append(pyaudio.PyAudio())
        return opened[-1]

    provider = PortAudioDeviceProvider(lambda: stream_open, open_portaudio=counting_pyaudio)
    first = provider.list_devices()
    stream_open = True
    assert provider.list_devices() == first
    assert len(opened) == 1
    stream_open = False
    assert provider.list_devices() == first
    assert len(opened) == 2


def test_unique_ids_suffix_duplicates_in_index_order() -> None:
    assert unique_ids([]) == []
    assert unique_ids(["MME:Mic", "WASAPI:Mic"]) == ["MME:Mic", "WASAPI:Mic"]
    assert unique_ids(["MME:Mic", "MME:Line", "MME:Mic", "MME:Mic"]) == [
        "MME:Mic",
        "MME:Line",
        "MME:Mic#2",
        "MME:Mic#3",
    ]
    # a device really named "Mic#2" keeps that id; the duplicate skips to #3
    assert unique_ids(["MME:Mic", "MME:Mic", "MME:Mic#2"]) == ["MME:Mic", "MME:Mic#3", "MME:Mic#2"]


def test_polling_watcher_reports_changes_and_failures() -> None:
    mic = InputDevice("MME:Mic", "Mic", "MME", 2, 44_100, is_default=True)
    usb = InputDevice("MME:USB", "USB", "MME", 1, 48_000)
    current: list[InputDevice] | None = [mic]

    def list_devices() -> list[InputDevice]:
        if current is None:
            raise AudioError("Could not list the audio input devices (PortAudio).")
        return list(current)

    changes = ChangeRecorder()
    watcher = PollingWatcher(list_devices, changes, interval=0.01)
    watcher.start()
    try:
        current = [usb, mic]
        assert changes.wait(2.0)
        current = None
        assert changes.wait(2.0)
        current = [mic]
        assert changes.wait(2.0)
        assert changes.calls == 3  # [mic] -> [usb, mic] -> failure -> [mic]
    finally:
        started = time.monotonic()
        watcher.stop(1.0)
    assert time.monotonic() - started < 1.0
    assert not watcher.is_alive()


def test_portaudio_watching_stops_promptly(pulse_server: PulseServer) -> None:
    provider = PortAudioDeviceProvider(poll_interval=3.0)
    provider.start_watching(ChangeRecorder())
    [thread] = watcher_threads(devices_portaudio.WATCHER_THREAD_NAME)
    started = time.monotonic()
    provider.stop_watching()
    assert time.monotonic() - started < 1.0
    assert not thread.is_alive()
