"""Harder speech for the offline benchmark than the clean flite test sentences: long continuous
speech with few pauses, hyphenated compounds and numbers, several voices (flite's, and
espeak-ng's when it is installed: ``apt-get install espeak-ng``), and two recordings of real
human speech: a reading (``tests/fixtures/austen.wav``) and spontaneous speech at a meeting
(``tests/fixtures/conversation.wav``, which has no transcription: its ``text`` is empty, and
only its distance from a one-shot decode is measured); where they come from:
``make_fixtures.sh`` there. The synthetic clips are made on the fly into a cache folder; the
texts are the references."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from tests.support.speech import FIXTURES

BOOK = (
    "It was a cold-hearted thing to say, and she knew it at once. Her brother, who had always "
    "been ill-disposed towards their neighbours, only laughed and went on reading by the fire. "
    "The letter had arrived at half past nine, three days late, and it asked for money that "
    "nobody in the house could find, not even the well-meaning aunt who lived upstairs with her "
    "two old cats. So they sat together in silence while the rain beat against the windows, "
    "each of them wondering what their father would have done, and none of them willing to be "
    "the first to say it out loud."
)
NUMBERS = (
    "The train leaves platform 4 at 7 in the morning and arrives 3.5 hours later. Tickets cost "
    "$18 for adults and $9 for children, and a return ticket is a little cheaper. In 1987 the "
    "line carried more than 200,000 passengers, and today it carries almost twice as many on a "
    "well-run, up-to-date service."
)
LECTURE = (
    "Good morning everyone and welcome back to the second part of the course where we look at "
    "how small changes in the weather can have a surprisingly large effect on the crops that "
    "farmers decide to plant in the spring because a dry month at the wrong time can ruin a "
    "harvest that looked perfectly healthy only a few weeks earlier and that is why so many "
    "long-term plans depend on short-term forecasts that nobody can fully trust"
)
# Real speech, read aloud (tests/fixtures/austen.wav): the reference is the fixture's text.
AUSTEN = (FIXTURES / "austen.txt").read_text().strip()


@dataclass(frozen=True)
class Clip:
    name: str
    text: str  # the reference; "" when there is none (only compared with a one-shot decode)
    tool: str  # "flite", "espeak-ng", or "recording" (voice = a WAV in tests/fixtures)
    voice: str


CLIPS = (
    Clip("book-slt", BOOK, "flite", "slt"),
    Clip("numbers-rms", NUMBERS, "flite", "rms"),
    Clip("lecture-awb", LECTURE, "flite", "awb"),
    Clip("book-espeak", BOOK, "espeak-ng", "en-gb"),
    Clip("numbers-espeak", NUMBERS, "espeak-ng", "en-us"),
    Clip("austen-human", AUSTEN, "recording", "austen.wav"),
    Clip("conversation-human", "", "recording", "conversation.wav"),  # no transcription
)


def available(clip: Clip) -> bool:
    if clip.tool == "recording":
        return (FIXTURES / clip.voice).is_file()
    return shutil.which(clip.tool) is not None and shutil.which("sox") is not None


def synthesise(clip: Clip, folder: Path) -> bytes:
    """16 kHz mono s16le PCM of ``clip`` (made once, then read from ``folder``; a recording is
    read as it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    wav = FIXTURES / clip.voice if clip.tool == "recording" else folder / f"{clip.name}.wav"
    if not wav.exists():
        raw = folder / f"{clip.name}.raw.wav"
        if clip.tool == "flite":
            command = ["flite", "-voice", clip.voice, "-t", clip.text, "-o", str(raw)]
        else:
            command = ["espeak-ng", "-v", clip.voice, "-s", "165", "-w", str(raw), clip.text]
        subprocess.run(command, check=True, capture_output=True)
        # -D: no dither. sox dithers when it resamples (espeak-ng writes 22.05 kHz), with
        # random noise, so each synthesis of an espeak-ng clip was a different file and its
        # WERs (one-shot too: 0.114 one run, 0.162 the next) could not be compared across runs.
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)],
                       check=True, capture_output=True)
        raw.unlink()
    with wave.open(str(wav)) as reader:
        frames: bytes = reader.readframes(reader.getnframes())
    return frames
