"""State shared by the HTTP endpoints and the WebSocket sessions of one emulator."""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import TokenStore
from .config import EmulatorConfig
from .recording import Recorder


@dataclass
class ServerState:
    config: EmulatorConfig
    tokens: TokenStore = field(default_factory=TokenStore)
    recorder: Recorder = field(default_factory=Recorder)
