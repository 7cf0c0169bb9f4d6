"""Slack's published rate limits, enforced with 429 and Retry-After when asked to."""

from __future__ import annotations

import math
from typing import Any

from bot.devslack.base import FakeBase
from bot.slack.pacing import PER_CHANNEL, TIERS, Bucket, Rate

# Slack lets short bursts through; the bot's own pacing (bot/slack/pacing.py) uses less.
FAKE_BURST = {"chat.postMessage": 4}


class RateLimits(FakeBase):
    """`rate_limits=True`: per method per workspace, chat.postMessage per channel."""

    def _over_limit(self, method: str, args: dict[str, Any]) -> float | None:
        """Seconds until `method` may be called again; None when this call may go."""
        if not self.rate_limits or method not in TIERS:
            return None
        rate = TIERS[method]
        rate = Rate(rate.per_minute, max(rate.burst * 2, FAKE_BURST.get(method, 0)))
        channel = str(args.get("channel") or "") if method in PER_CHANNEL else ""
        bucket = self._buckets.get((method, channel))
        if bucket is None:
            bucket = self._buckets[(method, channel)] = Bucket(rate, self.rate_scale)
        wait = bucket.wait()
        if wait > 0:
            return wait
        bucket.take()
        return None


def retry_after(seconds: float, scale: float) -> str:
    """Whole seconds, as Slack sends; a sped-up fake sends tenths (our client reads floats)."""
    if scale == 1.0:
        return str(max(1, math.ceil(seconds)))
    return f"{max(0.1, math.ceil(seconds * 10) / 10):.1f}"
