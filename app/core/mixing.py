"""Two voices heard as one stream: the mixing maths and the rule for when to mix.

"Microphone + system audio" is normally two streams, labelled You and Others
(:mod:`app.core.speakers`). Where two streams cannot run — the offline engine on a machine with
too few cores, or two offline decoders falling behind the audio — both are summed into one
stream instead, said in one sentence, and transcribed without labels. This module is the pure
part: the sum of two s16le frames (clipped, never wrapped), the pairing of two parts' frames
by moment, and the sentences. The numbers are summed with numpy in ``app/io``; :func:`mix_s16`
here is the reference it is tested against.
"""

from __future__ import annotations

import enum
from array import array
from collections import deque
from typing import Final, Literal

from app.core.signal import samples_s16

S16_MAX: Final = 32767
S16_MIN: Final = -32768

# Two offline decoders (one per stream; each decodes only while its stream has voice, by VAD)
# keep up in real time only with cores to spare: on 2 cores one tiny.en stream re-decoding
# about once a second already keeps both cores busy during speech (shared/CI-RECIPES.md).
# Measured on the 2-core test machine (load average ~9 from other work): 17.6 s of speech on
# both channels at once put each decoder 2 s behind, and the last words of one voice were
# still not decoded 60 s after Stop; one short sentence each (3-5 s) kept up.
MIN_CORES_FOR_TWO_OFFLINE_STREAMS: Final = 4


class MixReason(enum.Enum):
    FEW_CORES = "few-cores"  # offline from the start on a machine with too few cores
    FELL_BACK = "fell-back"  # Automatic went offline mid-recording on such a machine
    BEHIND = "behind"  # two offline decoders fell behind the audio


_NOTICES: Final = {
    MixReason.FEW_CORES: (
        "This computer has too few processor cores to transcribe the microphone and system "
        "audio separately on the offline engine: both are transcribed as one mixed stream, "
        "without You and Others labels."),
    MixReason.FELL_BACK: (
        "The offline engine now continues this recording, and this computer has too few "
        "processor cores for two streams: from here on the microphone and system audio are "
        "transcribed as one mixed stream, without You and Others labels."),
    MixReason.BEHIND: (
        "Transcribing the microphone and system audio separately fell behind: from here on "
        "both are transcribed as one mixed stream, without You and Others labels."),
}


def mixed_notice(reason: MixReason) -> str:
    """The one sentence the person reads when the two voices become one mixed stream."""
    return _NOTICES[reason]


def two_offline_streams(cpu_count: int | None) -> bool:
    """Whether the offline engine can run one stream per voice on this many cores."""
    return (cpu_count or 1) >= MIN_CORES_FOR_TWO_OFFLINE_STREAMS


def reason_to_mix(*, offline_voices: int, behind: Literal["you", "others"] | None,
                  cpu_count: int | None) -> MixReason | None:
    """Whether a two-stream recording must go on as one mixed stream, and why.

    ``offline_voices``: how many of the two voices run on the offline engine (both when the
    recording is offline; after Automatic's fallbacks, those that fell back); ``behind``: the
    voice whose offline decoder just said it fell behind the audio, if any. Both voices
    offline on too few cores for two decoders: mix. A decoder behind: mix when both are
    offline (one decoder instead of two), or when it is Others' (its load moves to You's
    stream, still on the cloud); You's decoder alone behind would only get more to decode.
    """
    if behind is not None:
        return MixReason.BEHIND if offline_voices >= 2 or behind == "others" else None
    if offline_voices >= 2 and not two_offline_streams(cpu_count):
        return MixReason.FELL_BACK
    return None


def mix_s16(a: bytes, b: bytes) -> bytes:
    """The sum of two s16le frames of equal length, clipped to the 16-bit range (reference)."""
    left, right = samples_s16(a), samples_s16(b)
    if len(left) != len(right):
        raise ValueError("frames to mix must have the same length")
    summed = array("h", (min(S16_MAX, max(S16_MIN, x + y))
                         for x, y in zip(left, right, strict=True)))
    return summed.tobytes()


Pair = tuple[bytes | None, bytes | None]


class FrameAligner:
    """Pairs the 50 ms frames of two parts by moment: the n-th frame of one with the n-th of
    the other. A part that falls silent (its device stalls) holds the other back by at most
    ``max_skew`` frames; beyond that the other's frames go out alone (paired with None)."""

    def __init__(self, max_skew: int = 10) -> None:
        if max_skew < 0:
            raise ValueError("max_skew must not be negative")
        self._max_skew = max_skew
        self._queues: tuple[deque[bytes], deque[bytes]] = (deque(), deque())

    def take(self, part: int, pcm: bytes) -> list[Pair]:
        """Part ``part`` (0 or 1) delivered ``pcm``: the pairs ready to go out, oldest first."""
        self._queues[part].append(pcm)
        first, second = self._queues
        ready: list[Pair] = []
        while first and second:
            ready.append((first.popleft(), second.popleft()))
        own = self._queues[part]
        while len(own) > self._max_skew:
            alone = own.popleft()
            ready.append((alone, None) if part == 0 else (None, alone))
        return ready

    def drain(self) -> list[Pair]:
        """Everything still waiting (at the end, when one part stopped before the other)."""
        first, second = self._queues
        ready: list[Pair] = []
        while first or second:
            ready.append((first.popleft() if first else None,
                          second.popleft() if second else None))
        return ready
