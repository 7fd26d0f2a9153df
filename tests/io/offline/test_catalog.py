"""The optional-model catalog and its downloader, against a local stand-in for Hugging Face on
127.0.0.1 serving a small fake model. The real URLs are only formatted, never contacted."""

from __future__ import annotations

import asyncio
import copy
import socket
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import ConnectionFailedError, OfflineModelError
from app.io.offline.catalog import DEFAULT_MANIFEST, ModelCatalog
from app.io.offline.model import TINY_EN, verify_model_folder
from tests.support.model_hub import REPO, REVISION, FakeHub, fake_files, hub, manifest
from tests.support.multilingual_model import base_model_files

__all__ = ["hub"]  # the fixture, used by name


def catalog_for(hub: FakeHub) -> ModelCatalog:
    return ModelCatalog.from_manifest(manifest(fake_files()), base_url=hub.url)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


# --- the catalog ---------------------------------------------------------------------------


def test_default_catalog_pins_base_and_small_by_revision_and_digest() -> None:
    catalog = ModelCatalog.default()
    assert catalog.names == ("base.en", "small.en", "base", "small")
    base = catalog.get("base.en")
    assert not base.spec.multilingual and not catalog.get("small.en").spec.multilingual
    assert [f.name for f in base.spec.files] == [f.name for f in TINY_EN.files]
    assert base.spec.size > 140_000_000 and catalog.get("small.en").spec.size > 480_000_000
    # English models share tiny.en's tokenizer and vocabulary, byte for byte.
    assert base.spec.files[2:] == TINY_EN.files[2:]
    assert catalog.url(base, base.spec.files[1]) == (
        "https://huggingface.co/Systran/faster-whisper-base.en/resolve/"
        "3d3d5dee26484f91867d81cb899cfcf72b96be6c/model.bin")
    with pytest.raises(OfflineModelError, match="medium.en"):
        catalog.get("medium.en")


@pytest.mark.parametrize("damage", [
    lambda m: m["models"][0].pop("revision"),
    lambda m: m["models"][0]["files"][0].update(sha256="ABC"),
    lambda m: m["models"][0]["files"][0].update(size=0),
    lambda m: m["models"][0]["files"][0].update(name="../evil"),
    lambda m: m["models"][0].update(files=[]),
    lambda m: m["models"][0].update(multilingual="yes"),
])
def test_a_malformed_manifest_is_refused(damage: Any) -> None:
    data = manifest(fake_files())
    damage(data)
    with pytest.raises(ValueError, match="manifest"):
        ModelCatalog.from_manifest(data)


def test_the_multilingual_models_are_pinned_with_their_own_tokenizer() -> None:
    catalog = ModelCatalog.default()
    base, small = catalog.get("base"), catalog.get("small")
    assert base.spec.multilingual and small.spec.multilingual
    assert [f.name for f in base.spec.files] == [f.name for f in TINY_EN.files]
    # The multilingual tokenizer has the language and task tokens: not the English one.
    assert base.spec.files[2:] == small.spec.files[2:]
    assert not set(base.spec.files) & set(TINY_EN.files)
    assert (base.spec.size, small.spec.size) == (147_882_941, 486_212_372)
    assert catalog.url(small, small.spec.files[1]) == (
        "https://huggingface.co/Systran/faster-whisper-small/resolve/"
        "536b0662742c02347bc0e980a01041f333bce120/model.bin")


async def test_the_multilingual_base_entry_matches_the_real_files(hub: FakeHub,
                                                                  tmp_path: Path) -> None:
    """The four real files of Systran/faster-whisper-base (from the test dependencies), served
    locally, pass the catalog's own size and digest checks: its base entry is right."""
    entry = copy.deepcopy(next(m for m in DEFAULT_MANIFEST["models"] if m["name"] == "base"))
    entry.update(repository=REPO, revision=REVISION)  # where the local hub serves them
    hub.files = base_model_files()
    catalog = ModelCatalog.from_manifest({"models": [entry]}, base_url=hub.url)
    folder = tmp_path / "base"
    assert await catalog.download("base", folder, lambda d, t: None, asyncio.Event()) == folder
    assert catalog.is_installed("base", folder)
    verify_model_folder(folder, ModelCatalog.default().get("base").spec)


async def test_a_multilingual_entry_refuses_other_files(hub: FakeHub, tmp_path: Path) -> None:
    """small's config and weights cannot be fetched here; files of the same names that are not
    them (base's) are refused, so nothing unverified is ever installed as small."""
    entry = copy.deepcopy(next(m for m in DEFAULT_MANIFEST["models"] if m["name"] == "small"))
    entry.update(repository=REPO, revision=REVISION)
    hub.files = base_model_files()
    catalog = ModelCatalog.from_manifest({"models": [entry]}, base_url=hub.url)
    with pytest.raises(OfflineModelError, match="config.json"):
        await catalog.download("small", tmp_path / "small", lambda d, t: None, asyncio.Event())
    assert leftovers(tmp_path / "small") == []


def test_the_default_manifest_is_well_formed() -> None:
    assert ModelCatalog.from_manifest(DEFAULT_MANIFEST).names == ModelCatalog.default().names


# --- downloading ---------------------------------------------------------------------------


async def test_download_verifies_then_installs_with_progress(hub: FakeHub,
                                                             tmp_path: Path) -> None:
    catalog = catalog_for(hub)
    folder = tmp_path / "models" / "fake.en"
    progress: list[tuple[int, int]] = []
    result = await catalog.download("fake.en", folder, lambda d, t: progress.append((d, t)),
                                    asyncio.Event())
    assert result == folder
    files = fake_files()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    total = sum(len(b) for b in files.values())
    assert progress[-1] == (total, total)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert hub.requests == [f"/{REPO}/resolve/{REVISION}/{name}" for name in files]
    assert leftovers(folder) == ["fake.en"]  # no staging folder left
    assert catalog.is_installed("fake.en", folder)
    verify_model_folder(folder, catalog.get("fake.en").spec)  # what the loader checks


async def test_a_corrupted_download_installs_nothing(hub: FakeHub, tmp_path: Path) -> None:
    data = bytearray(hub.files["model.bin"])
    data[1000] ^= 0xFF
    hub.files["model.bin"] = bytes(data)
    folder = tmp_path / "fake.en"
    with pytest.raises(OfflineModelError) as raised:
        await catalog_for(hub).download("fake.en", folder, lambda d, t: None, asyncio.Event())
    assert "model.bin" in raised.value.message and "digest" in raised.value.message
    assert leftovers(folder) == []


async def test_cancel_stops_the_download_and_installs_nothing(hub: FakeHub,
                                                              tmp_path: Path) -> None:
    hub.hold = "model.bin"  # the server pauses after its first block
    folder = tmp_path / "fake.en"
    cancel, first = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(catalog_for(hub).download(
        "fake.en", folder, lambda d, t: first.set(), cancel))
    await first.wait()  # config.json is in
    cancel.set()
    hub.release.set()
    assert await task is None
    assert leftovers(folder) == []


async def test_an_older_copy_is_replaced(hub: FakeHub, tmp_path: Path) -> None:
    folder = tmp_path / "fake.en"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"damaged")
    (folder / "stale.txt").write_text("old")
    catalog = catalog_for(hub)
    assert not catalog.is_installed("fake.en", folder)
    await catalog.download("fake.en", folder, lambda d, t: None, asyncio.Event())
    assert sorted(p.name for p in folder.iterdir()) == sorted(fake_files())


async def test_server_refusals_are_typed(hub: FakeHub, tmp_path: Path) -> None:
    hub.status["vocabulary.txt"] = 404
    with pytest.raises(OfflineModelError) as missing:
        await catalog_for(hub).download("fake.en", tmp_path / "a", lambda d, t: None,
                                        asyncio.Event())
    assert missing.value.code == 404 and "vocabulary.txt" in missing.value.message
    hub.status["vocabulary.txt"] = 503
    with pytest.raises(ConnectionFailedError) as failing:
        await catalog_for(hub).download("fake.en", tmp_path / "b", lambda d, t: None,
                                        asyncio.Event())
    assert failing.value.code == 503 and failing.value.retryable
    assert leftovers(tmp_path / "a") == []


async def test_no_server_means_connection_failed(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the download: nobody listens
    catalog = ModelCatalog.from_manifest(manifest(fake_files()), base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectionFailedError, match="fake.en"):
        await catalog.download("fake.en", tmp_path / "fake.en", lambda d, t: None,
                               asyncio.Event())
    assert leftovers(tmp_path / "fake.en") == []
