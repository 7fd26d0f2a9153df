"""The pre-recorded client against the local pre-recorded emulator, on loopback only: a real
upload of a real file, a real transcript created and polled, and each way it can fail."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.core import errors as e
from app.io.cloud.prerecorded import PrerecordedClient
from tests.emulator.prerecorded import PrerecordedConfig, PrerecordedEmulator
from tests.emulator.server import run_emulator
from tests.support.media import FLAC, encode, read_wav_s16

KEY = "test-key-0123456789abcdef0123456789"
HELLO = Path(__file__).parents[2] / "fixtures" / "hello.wav"
SCRIPT = ("first sentence here", "second sentence there")


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[PrerecordedEmulator]:
    config = getattr(request, "param", None) or PrerecordedConfig()
    config.api_keys = frozenset({KEY})
    config.script = SCRIPT
    with PrerecordedEmulator(config) as emulator:
        yield emulator


@pytest.fixture
def flac(tmp_path: Path) -> Path:
    pcm, rate = read_wav_s16(HELLO)
    return encode(pcm, rate, tmp_path / "hello.flac", FLAC)


def client(api: PrerecordedEmulator, key: str = KEY, timeout_s: float = 60.0
           ) -> PrerecordedClient:
    return PrerecordedClient(api.url, key, first_poll_s=0.01, longest_poll_s=0.05,
                             timeout_s=timeout_s)


async def test_a_file_is_uploaded_whole_and_comes_back_as_paragraphs(
        api: PrerecordedEmulator, flac: Path) -> None:
    stages: list[tuple[str, int | None]] = []
    turns = await client(api).transcribe(flac, lambda text, pct: stages.append((text, pct)))
    assert [t.transcript for t in turns] == ["First sentence here.", "Second sentence there."]
    assert all(t.end_of_turn and t.turn_is_formatted for t in turns)
    assert turns[0].words[0].start == 200  # the file's own timeline, in ms
    [upload] = api.uploads.values()
    assert upload == await asyncio.to_thread(flac.read_bytes)  # the raw file, not decoded
    percents = [p for text, p in stages if text.startswith("Uploading") and p is not None]
    assert percents[0] == 0 and percents[-1] == 100
    assert any("queued" in text for text, _ in stages)
    # The key only ever in the header.
    assert all(call.authorization == KEY and KEY not in call.path for call in api.calls)
    assert [c.method + " " + c.path.split("/")[2] for c in api.calls][:2] == [
        "POST upload", "POST transcript"]


async def test_a_bad_key_is_an_auth_error_that_never_quotes_it(
        api: PrerecordedEmulator, flac: Path) -> None:
    wrong = "wrong-key-abcdefghijklmnopqrstuvwxyz"
    with pytest.raises(e.AuthError) as caught:
        await client(api, wrong).transcribe(flac, lambda *_: None)
    assert caught.value.code == 401
    assert "Invalid API key" in str(caught.value)
    assert wrong not in str(caught.value) + caught.value.detail
    assert not api.jobs  # refused at the upload: nothing was created


@pytest.mark.parametrize("api", [PrerecordedConfig(refuse_upload=503)], indirect=True)
async def test_a_refused_upload_is_a_server_error(api: PrerecordedEmulator, flac: Path) -> None:
    with pytest.raises(e.ServerError) as caught:
        await client(api).transcribe(flac, lambda *_: None)
    assert caught.value.code == 503 and not api.jobs


@pytest.mark.parametrize("api", [PrerecordedConfig(fail_with="Audio duration is too short.")],
                         indirect=True)
async def test_an_error_status_says_the_services_reason(api: PrerecordedEmulator,
                                                        flac: Path) -> None:
    with pytest.raises(e.ServiceError) as caught:
        await client(api).transcribe(flac, lambda *_: None)
    assert str(caught.value).startswith(
        "AssemblyAI could not transcribe hello.flac (Audio duration is too short.).")


async def test_a_file_that_is_not_audio_ends_in_the_services_error(
        api: PrerecordedEmulator, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp3"
    notes.write_text("not a recording\n" * 100)
    with pytest.raises(e.ServiceError, match="does not appear to contain audio"):
        await client(api).transcribe(notes, lambda *_: None)


@pytest.mark.parametrize("api", [PrerecordedConfig(never_complete=True)], indirect=True)
async def test_polling_that_never_completes_times_out(api: PrerecordedEmulator,
                                                      flac: Path) -> None:
    with pytest.raises(e.TranscriptionTimeoutError) as caught:
        await client(api, timeout_s=0.3).transcribe(flac, lambda *_: None)
    assert caught.value.message.startswith("AssemblyAI had not finished transcribing hello.flac")
    assert sum(c.method == "GET" for c in api.calls) >= 2  # it did poll, more than once


async def test_an_unreachable_service_is_a_connection_error(flac: Path) -> None:
    with PrerecordedEmulator() as gone:
        url = gone.url
    with pytest.raises(e.ConnectionFailedError):
        await PrerecordedClient(url, KEY).transcribe(flac, lambda *_: None)


@pytest.mark.parametrize("api", [PrerecordedConfig(never_complete=True)], indirect=True)
async def test_cancel_stops_polling(api: PrerecordedEmulator, flac: Path) -> None:
    polled = asyncio.Event()

    def stage(text: str, _percent: int | None) -> None:
        if "transcribing" in text:
            polled.set()

    task = asyncio.create_task(client(api).transcribe(flac, stage))
    await asyncio.wait_for(polled.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    api.called.clear()
    count = len(api.calls)
    # Ten times the longest wait between polls: a poll still scheduled would arrive in it.
    polled_again = await asyncio.to_thread(api.called.wait, 0.5)
    assert not polled_again and len(api.calls) == count


async def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(flac: Path) -> None:
    """A service address that answers with a redirect (a captive portal, a wrong URL): urllib
    would repeat the request, ``authorization`` header included, to wherever it points. The
    client stops there with a plain error and the other server never sees a request."""
    with PrerecordedEmulator() as elsewhere:
        class Redirecting(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                # Read the upload first, as a real server does: answering mid-upload and
                # closing would make it a reset connection instead of a redirect.
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(307)
                self.send_header("Location", elsewhere.url + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            host, port = server.server_address[:2]
            with pytest.raises(e.LiveTranscriberError) as caught:
                await PrerecordedClient(f"http://{host!s}:{port}", KEY).transcribe(
                    flac, lambda *_: None)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
        assert elsewhere.calls == []
    assert "307" in caught.value.message and KEY not in str(caught.value)


async def test_an_address_that_is_not_the_file_api_says_so(flac: Path) -> None:
    """``LIVE_TRANSCRIBER_API_URL`` pointed at another service (here the streaming emulator,
    which speaks HTTP only to open WebSockets): it was reached, so "could not be reached"
    would send the person to check a connection that works."""
    async with run_emulator() as streaming:
        with pytest.raises(e.LiveTranscriberError) as caught:
            await PrerecordedClient(streaming.http_url, KEY).transcribe(flac, lambda *_: None)
    assert caught.value.message == (
        f"The service at {streaming.http_url} closed the connection without answering: it does "
        "not look like AssemblyAI's file API.")
    assert caught.value.remedy == "Check LIVE_TRANSCRIBER_API_URL, or unset it to use AssemblyAI."
    assert KEY not in str(caught.value)
