"""The wire-format WAV path: a PCM 16 kHz mono 16-bit WAV is read with the stdlib and gives
exactly what PyAV's decoding gives (bytes, length, timeline, the checks at the end); every
other WAV still goes through PyAV."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from app.core.errors import AudioError
from app.io.audio.decoder import DecodedFile, open_media_file
from app.io.audio.media_file import MediaFile, identity_of
from app.io.audio.plain_wav import PlainWavFile
from tests.support.media import WAV_24BIT, WAV_FLOAT, MediaKind, encode, read_wav_s16

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def through_pyav(path: Path) -> DecodedFile:
    """The file as the general path decodes it (what the app did for every WAV before)."""
    container = av.open(str(path), "r")
    identity = identity_of(path)
    assert identity is not None
    return DecodedFile(path, container, container.streams.audio[0], identity)


def read_all(media: MediaFile, block_ms: int = 1000) -> bytes:
    out = bytearray()
    try:
        while block := media.read(block_ms):
            out += block
    finally:
        media.close()
    return bytes(out)


@pytest.mark.parametrize("name", ["hello.wav", "spanish.wav", "austen.wav"])
def test_a_wire_format_wav_reads_exactly_as_pyav_decodes_it(name: str) -> None:
    path = FIXTURES / name
    plain, general = open_media_file(path), through_pyav(path)
    assert isinstance(plain, PlainWavFile)
    assert (plain.codec, plain.source_rate, plain.source_channels, plain.duration_ms) == (
        general.codec, general.source_rate, general.source_channels, general.duration_ms)
    fast = read_all(plain, 700)  # a block size that does not divide the file
    assert fast == read_all(general)
    assert plain.position_ms == general.position_ms
    assert fast == FIXTURES.joinpath(name).read_bytes()[-len(fast):]  # the data chunk as is


@pytest.mark.parametrize("kind", [WAV_24BIT, WAV_FLOAT, MediaKind(".wav", "wav", "pcm_s16le",
                                                                   16_000, "stereo"),
                                  MediaKind(".wav", "wav", "pcm_s16le", 44_100)],
                         ids=lambda k: f"{k.codec}-{k.rate}-{k.layout}")
def test_any_other_wav_goes_through_pyav(tmp_path: Path, kind: MediaKind) -> None:
    pcm, rate = read_wav_s16(FIXTURES / "hello.wav")
    media = open_media_file(encode(pcm, rate, tmp_path / "other.wav", kind))
    media.close()
    assert isinstance(media, DecodedFile)


def test_a_wav_whose_header_promises_more_than_the_file_holds_goes_through_pyav(
    tmp_path: Path,
) -> None:
    whole = (FIXTURES / "library.wav").read_bytes()
    path = tmp_path / "unfinished.wav"
    path.write_bytes(whole[: len(whole) // 3])  # an unfinished copy: the header is whole
    media = open_media_file(path)
    media.close()
    assert isinstance(media, DecodedFile)


def test_a_wire_format_wav_cut_short_while_read_says_so(tmp_path: Path) -> None:
    path = tmp_path / "talk.wav"
    pcm, rate = read_wav_s16(FIXTURES / "library.wav")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.tile(pcm, 4).tobytes())
    media = open_media_file(path)
    assert isinstance(media, PlainWavFile)
    try:
        assert len(media.read(1000)) == 32_000
        os.truncate(path, 64_000)  # the drive was removed: the rest is gone
        with pytest.raises(AudioError) as caught:
            while media.read(1000):
                pass
    finally:
        media.close()
    assert caught.value.message.startswith("talk.wav changed while it was being read, after")
