from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.emulator import Emulator, run_emulator


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with run_emulator() as running:
        yield running
