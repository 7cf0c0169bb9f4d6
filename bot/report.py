"""The spend report's period and CSV: plain data, no Slack and no SQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PERIODS = ("today", "week")


def report_period(period: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, str]:
    """Start of today, or of this week (Monday), in the team's time zone; and its label."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = midnight - timedelta(days=local.weekday())
        return start, f"this week (since {start:%a %d %b})"
    return midnight, f"today ({midnight:%a %d %b})"


def spend_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """One line per agent, carrier and currency, with the totals a spreadsheet needs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["agent", "carrier", "currency", "labels", "net", "gross"])
    for r in rows:
        writer.writerow(
            [
                r["agent"],
                r["carrier"],
                r["currency"],
                r["count"],
                f"{r['net']:.2f}",
                f"{r['gross']:.2f}",
            ]
        )
    return out.getvalue().encode()
