"""What the fake Slack stores: its fixed identities and limits, and its records."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Which calls an armed fault hits, by the call's arguments (e.g. thread posts only).
FaultFilter = Callable[[dict[str, Any]], bool]

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
TEAM_NAME = "Demo Team"
TEAM_DOMAIN = "demo"
APP_ID = "A0001"
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
VIEW_STACK_MAX = 3
VIEW_MAX_BYTES = 250_000
RESPONSE_URL_USES = 5
# A response_url works for 30 minutes after the interaction (seconds; `response_url_ttl`).
RESPONSE_URL_TTL = 30 * 60.0


class Fail(Exception):
    def __init__(self, error: str, *messages: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.status = status


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    ok: bool
    error: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str  # "" when the message has only blocks or files, as in Slack
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    files: list[dict[str, Any]] = field(default_factory=list)
    # Every version of the content, the original first and the current one last.
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The message as Slack shows it in API answers and interaction payloads."""
        out: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "team": TEAM_ID,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = APP_ID
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = copy.deepcopy(self.files)
        return out


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    message_ts: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    title: str
    data: bytes
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None  # the file-share message the fake posted


@dataclass
class Channel:
    id: str
    name: str
    private: bool = False
    member: bool = True

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.private,
            "is_group": self.private,
            "is_private": self.private,
            "is_member": self.member,
            "is_archived": False,
        }


@dataclass
class Trigger:
    issued_at: float
    view_id: str | None
    used: bool = False


@dataclass
class Pending:
    id: str
    filename: str
    length: int
    data: bytes | None = None


@dataclass
class ResponseUrl:
    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = 0
    issued: float = 0.0  # time.monotonic() when Slack issued it
    # Armed by a test: this URL answers with this error from now on ("expired_url", "500").
    refusal: str | None = None
