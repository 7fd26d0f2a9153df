"""AssemblyAI's pre-recorded transcription API as data: addresses, request bodies, the answers
parsed into typed values, the polling schedule, and the words grouped into paragraphs.

Pure (stdlib only, no I/O): ``app/io/cloud/prerecorded.py`` does the HTTP and feeds the bytes
it receives through here. The wire facts are in ``docs/PRERECORDED.md``:

1. ``POST {base}/v2/upload`` with the file's raw bytes → ``{"upload_url": ...}``
2. ``POST {base}/v2/transcript`` with ``{"audio_url": upload_url, ...}`` → a transcript
   object whose ``status`` is ``queued``
3. ``GET {base}/v2/transcript/{id}`` until ``status`` is ``completed`` (``words`` hold the
   text with times in milliseconds) or ``error`` (``error`` says why).

The API key goes only into the ``authorization`` header, never into a URL.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from app.core.config import Region, SettingsError
from app.core.errors import (
    ConnectionFailedError,
    ProtocolError,
    ServerError,
    ServiceError,
    TranscriptionTimeoutError,
)
from app.core.messages import Turn, Word

ENV_API_URL: Final = "LIVE_TRANSCRIBER_API_URL"
API_HOSTS: Final = {Region.US: "api.assemblyai.com", Region.EU: "api.eu.assemblyai.com"}
UPLOAD_PATH: Final = "/v2/upload"
TRANSCRIPT_PATH: Final = "/v2/transcript"

# A paragraph ends after a sentence when the speaker pauses at least this long, after any
# pause this long, or at a sentence end once it has this many words.
SENTENCE_PAUSE_MS: Final = 700
ANY_PAUSE_MS: Final = 2000
LONG_PARAGRAPH_WORDS: Final = 60
_SENTENCE_ENDS: Final = (".", "?", "!")


def api_base(region: Region, env: Mapping[str, str]) -> str:
    """``https://api.assemblyai.com`` (or the EU host), or ``LIVE_TRANSCRIBER_API_URL`` (an
    ``http(s)://host:port`` address, e.g. the local emulator's)."""
    override = env.get(ENV_API_URL, "").strip()
    if not override:
        return f"https://{API_HOSTS[region]}"
    parts = urlsplit(override)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc \
            or parts.query:
        raise SettingsError(f"{ENV_API_URL} must be an http:// or https:// address.",
                            remedy="For the local emulator use for example "
                                   "http://127.0.0.1:8766.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def transcript_url(base: str, transcript_id: str) -> str:
    return f"{base}{TRANSCRIPT_PATH}/{transcript_id}"


def create_body(upload_url: str, *, language_code: str | None = None) -> bytes:
    """The JSON for ``POST /v2/transcript``: the uploaded file, punctuated and formatted."""
    body: dict[str, Any] = {"audio_url": upload_url, "punctuate": True, "format_text": True}
    if language_code is not None:
        body["language_code"] = language_code
    return json.dumps(body).encode()


class JobStatus(enum.Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERROR = "error"


@dataclass(frozen=True)
class TranscriptJob:
    """One answer about a transcript: its id, status, and (once completed) its words."""

    id: str
    status: JobStatus
    words: tuple[Word, ...] = ()
    error: str = ""
    audio_duration_s: float | None = None


def _object(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} is not a JSON object")
    return value


def parse_upload(body: bytes) -> str:
    """The ``upload_url`` the upload answered with."""
    url = _object(body, "the upload's answer").get("upload_url")
    if not isinstance(url, str) or not url:
        raise ProtocolError("the upload's answer has no upload_url")
    return url


def parse_transcript(body: bytes) -> TranscriptJob:
    """A transcript object (from creating or polling it)."""
    data = _object(body, "the transcript")
    job_id, status = data.get("id"), data.get("status")
    if not isinstance(job_id, str) or not job_id:
        raise ProtocolError("the transcript has no id")
    try:
        state = JobStatus(status)
    except ValueError:
        raise ProtocolError(f"the transcript's status {str(status)[:40]!r} is unknown") from None
    duration = data.get("audio_duration")
    job = TranscriptJob(job_id, state,
                        audio_duration_s=float(duration) if isinstance(duration, int | float)
                        else None)
    if state is JobStatus.ERROR:
        error = data.get("error")
        return TranscriptJob(job_id, state, error=error if isinstance(error, str) else "",
                             audio_duration_s=job.audio_duration_s)
    if state is JobStatus.COMPLETED:
        return TranscriptJob(job_id, state, _words(data.get("words")),
                             audio_duration_s=job.audio_duration_s)
    return job


def _words(raw: object) -> tuple[Word, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProtocolError("the transcript's words are not a list")
    words: list[Word] = []
    for item in raw:
        if not isinstance(item, dict):
            raise ProtocolError("a word of the transcript is not an object")
        text, start, end = item.get("text"), item.get("start"), item.get("end")
        if not isinstance(text, str) or not isinstance(start, int) or not isinstance(end, int):
            raise ProtocolError("a word of the transcript lacks its text or times")
        confidence = item.get("confidence")
        speaker = item.get("speaker")
        words.append(Word(text, start, end,
                          float(confidence) if isinstance(confidence, int | float) else 1.0,
                          True, speaker if isinstance(speaker, str) else None))
    return tuple(words)


def job_failed(job: TranscriptJob, file_name: str) -> ServiceError:
    """The typed error for a transcript that ended in ``status: error``."""
    reason = job.error or "no reason given"
    return ServiceError(f"AssemblyAI could not transcribe {file_name} ({reason}).",
                        remedy="Check that the file plays, or choose the Offline engine.",
                        detail=job.error)


def upload_answer_missing(file_name: str) -> ServerError:
    return ServerError(f"AssemblyAI did not accept the upload of {file_name}.",
                       remedy="Wait a minute and try again.")


def poll_delays(first_s: float = 1.0, longest_s: float = 5.0) -> Iterator[float]:
    """Waits between polls: 1 s, growing by half each time, up to 5 s (a long file takes
    minutes; a short one is done in seconds)."""
    delay = first_s
    while True:
        yield delay
        delay = min(longest_s, delay * 1.5)


def timed_out(file_name: str, waited_s: float) -> TranscriptionTimeoutError:
    minutes = max(1, round(waited_s / 60))
    return TranscriptionTimeoutError(
        f"AssemblyAI had not finished transcribing {file_name} after {minutes} min.",
        remedy="Try again later, or choose the Offline engine.")


def not_the_api(base: str, *, closed: bool) -> ConnectionFailedError:
    """The address at ``base`` was reached but did not answer as an HTTP API does: it closed
    the connection without a response (``closed``), or answered in something else. "Could
    not be reached" would send the person to check a connection that works."""
    what = "closed the connection without answering" if closed else "did not answer in HTTP"
    if base in (f"https://{host}" for host in API_HOSTS.values()):
        return ConnectionFailedError(f"AssemblyAI's file service {what}.",
                                     remedy="Try again in a moment.")
    return ConnectionFailedError(
        f"The service at {base} {what}: it does not look like AssemblyAI's file API.",
        remedy=f"Check {ENV_API_URL}, or unset it to use AssemblyAI.")


def paragraphs(words: Sequence[Word]) -> list[Turn]:
    """The words as finished, formatted turns: a new paragraph after a sentence followed by a
    pause, after any long pause, or at a sentence end once a paragraph is long."""
    turns: list[Turn] = []
    current: list[Word] = []
    for word in words:
        if current:
            gap = word.start - current[-1].end
            sentence_end = current[-1].text.endswith(_SENTENCE_ENDS)
            if (gap >= ANY_PAUSE_MS or (sentence_end and gap >= SENTENCE_PAUSE_MS)
                    or (sentence_end and len(current) >= LONG_PARAGRAPH_WORDS)):
                turns.append(_turn(len(turns), current))
                current = []
        current.append(word)
    if current:
        turns.append(_turn(len(turns), current))
    return turns


def _turn(order: int, words: list[Word]) -> Turn:
    text = " ".join(w.text for w in words)
    return Turn(turn_order=order, turn_is_formatted=True, end_of_turn=True, transcript=text,
                end_of_turn_confidence=1.0, words=tuple(words))
