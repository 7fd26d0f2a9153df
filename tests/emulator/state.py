"""State shared by the HTTP endpoints and the WebSocket sessions of one emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .auth import TokenStore
from .config import EmulatorConfig
from .recording import TrafficLog

if TYPE_CHECKING:
    from .session import SessionBase

# How the service answers new connections during an outage (`Emulator.service_down`).
Outage = Literal["http-503", "reset"]


@dataclass
class ServerState:
    config: EmulatorConfig
    tokens: TokenStore = field(default_factory=TokenStore)
    recorder: TrafficLog = field(default_factory=TrafficLog)
    live: set[SessionBase] = field(default_factory=set)  # open WebSocket sessions
    outage: Outage | None = None
