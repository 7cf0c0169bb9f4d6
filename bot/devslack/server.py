"""FakeSlack: a loopback Slack Web API that enforces the rules real Slack enforces.

Tests, the demo and benchmarks point a real `WebClient` at it (`base_url=fake.url`), so the
bot's own code runs unchanged. It refuses what Slack refuses (stale or reused trigger ids,
Block Kit over its limits, posting where the bot is not a member, stale view hashes) because
a fake that accepts everything hides exactly the bugs that show up in production.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable

from bot.devslack.conversations import ConversationMethods
from bot.devslack.files import FileMethods
from bot.devslack.plumbing import FORM_ONLY, HttpPlumbing
from bot.devslack.ratelimit import FAKE_BURST
from bot.devslack.records import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    MESSAGE_BLOCKS_MAX,
    RESPONSE_URL_USES,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    VIEW_BLOCKS_MAX,
    VIEW_MAX_BYTES,
    VIEW_STACK_MAX,
    Call,
    Channel,
    Ephemeral,
    FaultFilter,
    Message,
    UploadedFile,
)
from bot.devslack.views import ViewMethods

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "FAKE_BURST",
    "FORM_ONLY",
    "MESSAGE_BLOCKS_MAX",
    "RESPONSE_URL_USES",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "VIEW_BLOCKS_MAX",
    "VIEW_MAX_BYTES",
    "VIEW_STACK_MAX",
    "Call",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "UploadedFile",
]


class FakeSlack(HttpPlumbing, FileMethods, ViewMethods, ConversationMethods):
    """`rate_limits=True` enforces Slack's published limits (bot/slack/pacing.py's table: per method
    per workspace, chat.postMessage per channel) with 429 and Retry-After; `rate_scale` runs
    them that many times faster (a test sees the same shape in a fraction of the time)."""

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_channel(
        self,
        channel_id: str,
        *,
        private: bool = False,
        member: bool = True,
        name: str | None = None,
    ) -> None:
        with self._lock:
            self._channels[channel_id] = Channel(
                channel_id, name or f"chan-{channel_id.lower()}", private, member
            )

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            return self._channel(channel_id).name

    def set_socket_url(self, url: str | None) -> None:
        with self._lock:
            self._socket_url = url

    def fail_next(
        self, method: str, error: str, *, count: int = 1, which: FaultFilter | None = None
    ) -> None:
        """`error` is a Slack error code, or an HTTP status ("503": a 5xx with Slack's JSON
        error body); for "upload" and "response" it is always a status. `which` picks the
        calls it hits by their arguments (e.g. only thread posts); None: the next ones."""
        with self._lock:
            self._faults.setdefault(method, []).extend([(error, -1, which)] * count)

    def clear_faults(self) -> None:
        """Disarm every fault not used yet."""
        with self._lock:
            self._faults.clear()

    def ratelimit_next(
        self,
        method: str,
        *,
        retry_after: float = 1,
        count: int = 1,
        which: FaultFilter | None = None,
    ) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend(
                [("ratelimited", retry_after, which)] * count
            )

    def ratelimited(self) -> list[Call]:
        """Every call answered 429 by the enforced limits or an armed fault."""
        return [c for c in self.calls if c.error == "ratelimited"]

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages in post order, as they are now."""
        with self._lock:
            found = self._messages.get(channel, [])
            return [copy.deepcopy(m) for m in found if m.thread_ts is None and not m.deleted]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        with self._lock:
            found = self._messages.get(channel, [])
            return [
                copy.deepcopy(m)
                for m in found
                if m.thread_ts == thread_ts and m.ts != thread_ts and not m.deleted
            ]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            msg = self._find(channel, ts)
            if msg is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(msg)

    @property
    def ephemerals(self) -> list[Ephemeral]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def files(self) -> list[UploadedFile]:
        with self._lock:
            return copy.deepcopy(self._files)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll `predicate`; a LookupError in it (no such message yet) counts as "not yet"."""
        deadline = time.monotonic() + timeout
        last: LookupError | None = None
        while True:
            try:
                if predicate():
                    return
            except LookupError as e:
                last = e
            if time.monotonic() > deadline:
                why = f" (last: {last!r})" if last else ""
                raise AssertionError(f"condition not met within {timeout}s{why}\n{self.dump()}")
            time.sleep(0.01)

    def dump(self) -> str:
        """What the fake saw, for failure messages."""
        with self._lock:
            lines = ["calls (last 30):"]
            for c in self._calls[-30:]:
                outcome = "ok" if c.ok else c.error
                lines.append(f"  {c.method} -> {outcome} {json.dumps(c.args, default=str)[:200]}")
            for channel, msgs in self._messages.items():
                lines.append(f"channel {channel}: {len(msgs)} messages")
                for m in msgs[-10:]:
                    where = f"thread {m.thread_ts}" if m.thread_ts else "top"
                    lines.append(f"  {m.ts} [{where}] {(m.text or '')[:100]!r}")
            lines.append(f"views: {list(self._views)}; files: {[f.id for f in self._files]}")
            lines.extend(f"note: {n}" for n in self.notes[-10:])
            return "\n".join(lines)
