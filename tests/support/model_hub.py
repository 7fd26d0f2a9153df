"""A local stand-in for a model hub (127.0.0.1 only): serves fake CTranslate2 model files the
way Hugging Face serves ``/<repo>/resolve/<revision>/<file>``, and can pause mid-file."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

REPO, REVISION = "Example/fake-whisper", "0123456789abcdef0123456789abcdef01234567"
BLOCK = 1 << 16


def fake_files() -> dict[str, bytes]:
    rng = random.Random(7)
    return {
        "config.json": b'{"fake": true}\n',
        "model.bin": rng.randbytes(5 * BLOCK + 123),
        "vocabulary.txt": b"hello\nworld\n",
    }


def manifest(files: dict[str, bytes]) -> dict[str, Any]:
    return {"models": [{
        "name": "fake.en", "description": "a test model", "repository": REPO,
        "revision": REVISION,
        "files": [{"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files.items()],
    }]}


class FakeHub:
    """Serves ``/<repo>/resolve/<revision>/<file>``; can pause after a file's first block."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.requests: list[str] = []
        self.hold: str | None = None
        self.release = threading.Event()
        self.holding = threading.Event()  # set once the held file's first block is out
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hub.requests.append(self.path)
                name = self.path.rsplit("/", 1)[-1]
                prefix = f"/{REPO}/resolve/{REVISION}/"
                status = hub.status.get(name, 200)
                if not self.path.startswith(prefix) or name not in hub.files or status != 200:
                    self.send_error(status if status != 200 else 404)
                    return
                data = hub.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if name == hub.hold:
                    self.wfile.write(data[:BLOCK])
                    self.wfile.flush()
                    hub.holding.set()
                    hub.release.wait(10)
                    data = data[BLOCK:]
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    hub.files = fake_files()
    # A short poll interval: shutdown() waits for the serving loop's next poll.
    thread = threading.Thread(target=hub.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield hub
    hub.release.set()
    hub.server.shutdown()
    hub.server.server_close()
    thread.join(5)
