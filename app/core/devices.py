"""Input devices as the app sees them, the device-provider port, and the pure choice rule.

A device's ``id`` is stable across restarts and across index changes: on Linux it is the sound
server's source name (e.g. ``alsa_input.usb-Blue_Yeti-00.analog-stereo``), on Windows and macOS
``<host api>:<device name>``. It is what settings remember. PortAudio's numeric index is never
an identity: it changes whenever devices come and go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

DeviceKind = Literal["microphone", "system", "both"]
MICROPHONE: Final[DeviceKind] = "microphone"
# What the computer plays (a sound server's sink monitor, a WASAPI loopback), not a microphone.
SYSTEM_AUDIO: Final[DeviceKind] = "system"
# A microphone and system audio recorded together, as two streams labelled You and Others.
BOTH: Final[DeviceKind] = "both"
BOTH_ID: Final = "live-transcriber:microphone+system-audio"  # what settings remember
BOTH_NAME: Final = "Microphone + system audio"


@dataclass(frozen=True)
class InputDevice:
    id: str
    name: str  # friendly, e.g. "Blue Yeti Analog Stereo"
    host_api: str  # "PulseAudio", "MME", "Core Audio", …
    channels: int
    default_rate: int
    is_default: bool = False
    is_monitor: bool = False  # records what a sink plays, not a microphone
    kind: DeviceKind = MICROPHONE  # how the picker groups it: Microphones or System audio
    is_default_output: bool = False  # system audio: what the default output plays
    # For kind BOTH: the microphone (You) and the system audio (Others) it records.
    parts: tuple[InputDevice, ...] = ()


# Inputs that carry what the computer plays, as PortAudio names them on Windows and macOS:
# Windows' "Stereo Mix"/"What U Hear" (sound-card loopback), macOS' BlackHole, Soundflower
# and Rogue Amoeba's Loopback, and "Monitor of …" when PortAudio reaches a sound server.
_SYSTEM_AUDIO_NAMES: Final = ("stereo mix", "what u hear", "wave out mix", "loopback",
                              "blackhole", "soundflower", "monitor of ")


def kind_from_name(name: str) -> DeviceKind:
    """The kind of an input known only by its name (PortAudio's list)."""
    folded = name.casefold()
    return SYSTEM_AUDIO if any(key in folded for key in _SYSTEM_AUDIO_NAMES) else MICROPHONE


def with_both(devices: Sequence[InputDevice]) -> list[InputDevice]:
    """``devices`` plus "Microphone + system audio" when there is a microphone and a system-audio
    input: the default microphone (else the first) and what the default output plays (else the
    first system-audio input). On platforms whose list has no loopback input, there is no such
    entry."""
    microphones = [d for d in devices if d.kind == MICROPHONE and not d.is_monitor]
    outputs = [d for d in devices if d.kind == SYSTEM_AUDIO]
    system = next((d for d in outputs if d.is_default_output), outputs[0] if outputs else None)
    microphone = next((d for d in microphones if d.is_default),
                      microphones[0] if microphones else None)
    if microphone is None or system is None:
        return [d for d in devices if d.kind != BOTH]
    both = InputDevice(id=BOTH_ID, name=BOTH_NAME, host_api=microphone.host_api, channels=1,
                       default_rate=microphone.default_rate, kind=BOTH,
                       parts=(microphone, system))
    return [*(d for d in devices if d.kind != BOTH), both]


class DeviceProvider(Protocol):
    """Lists input devices and reports hot-plug. Methods may block: call them off the UI
    thread. ``on_change`` may be called from any thread; it only signals "list again"."""

    def list_devices(self) -> list[InputDevice]: ...

    def start_watching(self, on_change: Callable[[], None]) -> None: ...

    def stop_watching(self) -> None: ...


@dataclass(frozen=True)
class DeviceChoice:
    device: InputDevice | None  # None: no input device at all
    notice: str = ""  # shown to the person when the remembered device is missing


def choose_device(devices: Sequence[InputDevice], remembered_id: str | None) -> DeviceChoice:
    """The remembered device when present; else the system default, with a visible notice."""
    by_id = {d.id: d for d in devices}
    if remembered_id and remembered_id in by_id:
        return DeviceChoice(by_id[remembered_id])
    fallback = next((d for d in devices if d.is_default), None)
    if fallback is None:
        fallback = next((d for d in devices if not d.is_monitor), devices[0] if devices else None)
    if fallback is None:
        return DeviceChoice(None, "No microphone was found. Connect one and press Refresh.")
    if remembered_id:
        return DeviceChoice(
            fallback,
            f"The microphone you used last time is not connected; using {fallback.name}.",
        )
    return DeviceChoice(fallback)
