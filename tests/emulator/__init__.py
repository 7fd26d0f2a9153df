"""Local AssemblyAI Universal Streaming (v3) emulator for tests — never contacts the internet.

Facts come from /work/shared/PROTOCOL.md (§9 checklist, §10 real-client requirements); module
docstrings cite the sections they follow and mark UNCERTAIN choices.

Async tests::

    async with run_emulator(EmulatorConfig(api_keys=frozenset({"k"}))) as emu:
        url = emu.url + "/v3/ws?sample_rate=16000"   # send header Authorization: k
        token_url = emu.http_url + "/v3/token?expires_in_seconds=60"
        ...
        [session] = await emu.wait_sessions_closed_async()

Synchronous / Qt tests: ``with EmulatorThread(config) as emu: ...`` (same attributes, plus
``emu.wait_sessions_closed()``).  Stand-alone: ``python -m tests.emulator --port 0 --api-key k``.

Reconnect tests: fault knobs hit only the first N sessions with ``fault_sessions=N``; at run
time ``emu.service_down()`` / ``emu.service_up()`` and ``emu.drop_all()``; ``emu.sessions_started``,
``emu.audio_bytes_per_session`` and ``emu.wait_sessions_started_async(n)`` observe the replay.
``CodedRecognizer`` + ``tests/support/coded_speech.py`` count lost or doubled words.

The pre-recorded REST API (upload, create, poll) is a separate loopback server with the same
auth rules: ``tests.emulator.prerecorded.PrerecordedEmulator`` (stand-alone:
``python -m tests.emulator.prerecorded --port 0 --api-key KEY``).
"""

from .coded import CodedRecognizer
from .config import EmulatorConfig, SessionParams
from .recognizers import DEFAULT_SCRIPT, EmuWord, Recognizer, ScriptedRecognizer, TurnUpdate
from .recording import RecordedRequest, RecordedSession
from .server import Emulator, EmulatorThread, run_emulator

__all__ = [
    "CodedRecognizer",
    "DEFAULT_SCRIPT",
    "EmuWord",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "Recognizer",
    "RecordedRequest",
    "RecordedSession",
    "ScriptedRecognizer",
    "SessionParams",
    "TurnUpdate",
    "run_emulator",
]
