"""``--headless --file PATH`` in the cloud: the file goes to AssemblyAI's pre-recorded API
(upload, create, poll) instead of being streamed at real-time pace (part of the composition
root, beside ``app/headless.py``).

stderr says what is happening (``upload: 40 %``, ``status: AssemblyAI is transcribing …``,
then ``progress: 100 % (done)``); stdout gets the paragraphs, one a line; the transcript is
kept in the history like a recording. A file that cannot be used is refused before anything is
sent, with the same sentence as offline. SIGINT/SIGTERM cancel the job: nothing is kept.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from app.core import policy
from app.core.config import EngineChoice, Settings
from app.core.errors import AudioError, ConnectionFailedError, LiveTranscriberError
from app.core.transcript import TranscriptTurn
from app.wiring import cloud_file, data_folder, keep_turns, probe_media_file


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Stages:
    """Upload progress every 10 %, and each new status sentence once."""

    def __init__(self) -> None:
        self._next_percent = 0
        self._last = ""

    def __call__(self, text: str, percent: int | None) -> None:
        if percent is not None:
            if percent >= self._next_percent:
                _say(f"upload: {percent} %")
                self._next_percent = (percent // 10 + 1) * 10
        elif text != self._last:
            _say(f"status: {text}")
        self._last = text


async def in_cloud(path: Path, key: str, settings: Settings, *, may_fall_back: bool
                   ) -> int | None:
    """The exit status, or ``None`` when the service cannot be reached and Automatic may
    transcribe on this computer instead (already said on stderr)."""
    try:
        await asyncio.to_thread(probe_media_file, path)
    except AudioError as exc:
        _say(f"error: {exc}")
        return 1
    _say("engine: cloud (AssemblyAI pre-recorded API)")
    started = datetime.now()
    loop = asyncio.get_running_loop()
    job = asyncio.ensure_future(cloud_file(os.environ)(path, key, settings, _Stages()))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, job.cancel)
    try:
        turns = await job
    except asyncio.CancelledError:
        if not job.cancelled():
            raise
        _say("error: Cancelled: nothing was transcribed.")
        return 1
    except ConnectionFailedError as exc:
        if may_fall_back:
            _say(f"notice: AssemblyAI could not be reached, so {path.name} is transcribed on "
                 "this computer.")
            return None
        _say(f"error: {policy.error_text(exc, EngineChoice.CLOUD, policy.Surface.HEADLESS)}")
        return 1
    except LiveTranscriberError as exc:
        _say(f"error: {policy.error_text(exc, EngineChoice.CLOUD, policy.Surface.HEADLESS)}")
        return 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    finals = [TranscriptTurn.from_message(turn) for turn in turns]
    try:
        await asyncio.to_thread(keep_turns(data_folder() / "transcripts"), finals, started)
    except LiveTranscriberError as exc:  # the words still go to stdout
        _say(f"error: {exc}")
    for final in finals:
        print(final.text, flush=True)
    _say("progress: 100 % (done)")
    return 0
