"""The fake Slack's state and the small helpers every group of Web API methods uses."""

from __future__ import annotations

import random
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from bot.devslack.records import (
    RESPONSE_URL_TTL,
    Call,
    Channel,
    Ephemeral,
    Fail,
    FaultFilter,
    Message,
    Pending,
    ResponseUrl,
    Trigger,
    UploadedFile,
)
from bot.slack.pacing import Bucket

# The scopes app_manifest.yml asks for, granted as real Slack grants them on install.
GRANTED_SCOPES = ("commands", "chat:write", "files:write", "channels:join", "im:write")


class FakeBase:
    """State shared by the method groups (`bot/devslack/chat.py`, `views.py`, ...)."""

    def __init__(
        self,
        *,
        trigger_ttl: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = False,
        rate_scale: float = 1.0,
    ) -> None:
        self.trigger_ttl = trigger_ttl
        self.response_url_ttl = RESPONSE_URL_TTL
        self.rate_limits = rate_limits
        self.rate_scale = rate_scale
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._address = (host, port)
        self._lock = threading.RLock()
        self._rand = random.Random(1700)  # deterministic ids make demo transcripts repeatable
        # plumbing.py's Server, typed by its base: the state does not import the transport.
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._socket_url: str | None = None
        self._ts = 1_700_000_000_000_000
        self._calls: list[Call] = []
        self._channels: dict[str, Channel] = {}
        self._messages: dict[str, list[Message]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._pending: dict[str, Pending] = {}
        self._files: list[UploadedFile] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._opened: list[str] = []
        self._stacks: dict[str, list[str]] = {}  # root view id -> open views, bottom first
        self._home: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._responses: dict[str, list[dict[str, Any]]] = {}
        # method -> [(error, retry_after, which calls)]: `which` None takes the next call.
        self._faults: dict[str, list[tuple[str, float, FaultFilter | None]]] = {}
        self.notes: list[str] = []  # advice and internal errors, instead of Python warnings
        # What Slack says it granted the bot token, in each response's x-oauth-scopes header
        # (as real Slack does); a test takes one away to see `shipbot check` name it.
        self.scopes: tuple[str, ...] = GRANTED_SCOPES

    @property
    def base(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def _hex(self, n: int) -> str:
        return "".join(self._rand.choice("0123456789abcdef") for _ in range(n))

    def _id(self, prefix: str) -> str:
        return prefix + "".join(
            self._rand.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10)
        )

    def _next_ts(self) -> str:
        self._ts += 100
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _channel(self, channel_id: str) -> Channel:
        if channel_id not in self._channels:
            self._channels[channel_id] = Channel(channel_id, f"chan-{channel_id.lower()}")
        return self._channels[channel_id]

    def _member_channel(self, channel_id: Any) -> Channel:
        if not channel_id or not isinstance(channel_id, str):
            raise Fail("channel_not_found")
        channel = self._channel(channel_id)
        if not channel.member:
            raise Fail("not_in_channel")
        return channel

    def _find(self, channel: str | None, ts: str | None) -> Message | None:
        for msg in self._messages.get(channel or "", []):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def _with_block_ids(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Slack fills in a block_id where the app gave none; clicks then carry it."""
        for block in blocks:
            block.setdefault(
                "block_id", "".join(self._rand.choices("abcdefghijkmnopqrstuvwxyz", k=5))
            )
        return blocks

    def _take_fault(
        self, method: str, args: dict[str, Any] | None = None
    ) -> tuple[str, float] | None:
        """The first armed fault of `method` whose filter takes this call (used up)."""
        queue = self._faults.get(method) or []
        for i, (error, retry_after, which) in enumerate(queue):
            if which is None or which(args or {}):
                del queue[i]
                return error, retry_after
        return None
