"""Slack's rate limits, in one place, and the token buckets that keep the bot under them.

Slack limits each Web API method per workspace (tiers), and `chat.postMessage` per channel
(about one a second, short bursts allowed). The bot paces its own calls with these buckets
so Slack rarely has to answer 429; the stand-in Slack (bot/devslack) enforces the same
table with a little more burst, as Slack does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int


TIER_2 = Rate(20, 3)
TIER_3 = Rate(50, 5)
TIER_4 = Rate(100, 20)
POST_PER_CHANNEL = Rate(60, 3)
# Methods Slack limits per channel rather than per workspace.
PER_CHANNEL = frozenset({"chat.postMessage"})

# From https://docs.slack.dev/apis/web-api/rate-limits (see docs/slack.md).
TIERS: dict[str, Rate] = {
    "chat.postMessage": POST_PER_CHANNEL,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.getPermalink": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "files.info": TIER_4,
    "conversations.join": TIER_3,
    "conversations.info": TIER_3,
    "conversations.open": TIER_3,
    "users.info": TIER_4,
    "files.upload": TIER_2,
}
# What the bot allows itself: a little under Slack's rate, so clock jitter never tips over.
MARGIN = 0.95


class Bucket:
    """GCRA: a call may go at `tat - tolerance`; each call moves `tat` on by one interval."""

    def __init__(self, rate: Rate, scale: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.interval = 60.0 / (rate.per_minute * scale)
        self.tolerance = (rate.burst - 1) * self.interval
        self._clock = clock
        self._tat = 0.0
        self.taken = 0  # slots booked so far

    def wait(self, now: float | None = None) -> float:
        """Seconds until a call may go (0: now)."""
        now = self._clock() if now is None else now
        return max(0.0, self._tat - self.tolerance - now)

    def take(self, now: float | None = None) -> float:
        """Book the next slot; the seconds to wait for it."""
        now = self._clock() if now is None else now
        wait = max(0.0, self._tat - self.tolerance - now)
        self._tat = max(self._tat, now) + self.interval
        self.taken += 1
        return wait

    def hold(self, seconds: float, now: float | None = None) -> None:
        """Slack said Retry-After: nothing goes before then."""
        now = self._clock() if now is None else now
        self._tat = max(self._tat, now + seconds + self.tolerance)


class Pacer:
    """Every bucket of one workspace; shared by the outbox thread and synchronous posts."""

    def __init__(
        self,
        scale: float = 1.0,
        *,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scale = scale * margin
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, method: str, channel: str | None) -> Bucket | None:
        rate = TIERS.get(method)
        if rate is None:
            return None
        key = (method, (channel or "") if method in PER_CHANNEL else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(rate, self.scale, self._clock)
        return bucket

    def wait(self, method: str, channel: str | None = None) -> float:
        with self._lock:
            bucket = self._bucket(method, channel)
            return bucket.wait() if bucket else 0.0

    def take(self, method: str, channel: str | None = None, *, max_wait: float) -> float | None:
        """Book a slot within `max_wait` seconds and return the wait; None (nothing booked)
        when the next slot is further off than that."""
        with self._lock:
            bucket = self._bucket(method, channel)
            if bucket is None:
                return 0.0
            if bucket.wait() > max_wait:
                return None
            return bucket.take()

    def taken(self, method: str, channel: str | None = None) -> int:
        """Slots booked so far for `method` (a channel's, for a per-channel method)."""
        with self._lock:
            bucket = self._bucket(method, channel)
            return bucket.taken if bucket is not None else 0

    def book(self, method: str, channel: str | None = None) -> float:
        """Book the next slot whatever its wait, and return the wait: for a call that cannot
        be refused (a trigger-bound views.open), so it still counts against the bucket."""
        with self._lock:
            bucket = self._bucket(method, channel)
            return bucket.take() if bucket is not None else 0.0

    def hold(self, method: str, channel: str | None, seconds: float) -> None:
        with self._lock:
            bucket = self._bucket(method, channel)
            if bucket is not None:
                bucket.hold(seconds)
