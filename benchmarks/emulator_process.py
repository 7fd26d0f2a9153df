"""The soak's emulator in a child process, so the app's memory and CPU are measured alone.

``python -m benchmarks.emulator_process --key K --speed S --drop-every D`` serves the emulator
with the coded recogniser and the service's pacing rule scaled by ``S`` (``throughput_factor``
1.25 x S: the relaxed real-time check an accelerated soak needs, which the emulator's own CLI
has no option for), drops every open session every ``D`` seconds of wall time, prints
``URL <ws url>`` once listening and, on SIGTERM, ``DROPPED <n>`` before it exits 0.

``python -m benchmarks.emulator_process --write-wav PATH --minutes M --seed N`` writes the
soak's coded speech (the whole signal is built in memory: hundreds of MB for an hour, which
must not be counted as the app's).

:func:`emulator_process` starts the server side from asyncio and stops it again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class EmulatorProcess:
    url: str
    pid: int
    dropped: int = 0  # known once the process has stopped

    def rss_mb(self) -> float | None:
        try:
            with open(f"/proc/{self.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except OSError:
            return None


@asynccontextmanager
async def emulator_process(key: str, speed: float, drop_every_s: float
                           ) -> AsyncIterator[EmulatorProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.emulator_process", "--key", key, "--speed",
        str(speed), "--drop-every", str(drop_every_s), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().split()
        if len(line) != 2 or line[0] != "URL":
            raise RuntimeError(f"the emulator process said {line!r}, not its URL")
        handle = EmulatorProcess(line[1], process.pid)
        yield handle
        process.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(process.stdout.read(), 30)).decode().split()
        if await asyncio.wait_for(process.wait(), 30) != 0 or rest[:1] != ["DROPPED"]:
            raise RuntimeError(f"the emulator process ended badly: {rest!r}")
        handle.dropped = int(rest[1])
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def write_wav_in_child(path: Path, minutes: float, seed: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.emulator_process", "--write-wav", str(path),
        "--minutes", str(minutes), "--seed", str(seed), cwd=ROOT)
    if await process.wait() != 0:
        raise RuntimeError("writing the coded speech failed")


async def _serve(key: str, speed: float, drop_every_s: float) -> None:
    from tests.emulator import CodedRecognizer, EmulatorConfig, run_emulator

    config = EmulatorConfig(
        api_keys=frozenset({key}),
        recognizer_factory=lambda params: CodedRecognizer(params.sample_rate),
        throughput_factor=speed * 1.25, max_ahead_seconds=300.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    dropped = 0
    async with run_emulator(config) as emu:
        print(f"URL {emu.url}", flush=True)
        while not stop.is_set():
            try:  # the fault schedule: a cut every drop_every_s unless asked to stop first
                await asyncio.wait_for(stop.wait(), drop_every_s)
            except TimeoutError:
                dropped += emu.drop_all()
    print(f"DROPPED {dropped}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--key", default="soak-key")
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--drop-every", type=float, default=15.0, help="wall seconds")
    parser.add_argument("--write-wav", type=Path)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.write_wav:
        from benchmarks.soak import script
        from tests.support.coded_speech import write_coded_speech_wav

        write_coded_speech_wav(args.write_wav, script(args.minutes, args.seed))
        return 0
    asyncio.run(_serve(args.key, args.speed, args.drop_every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
