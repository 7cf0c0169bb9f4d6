"""`/ship report`: spend by agent and carrier, and the same as a CSV in the requester's DM."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks import Message
from blocks import report as report_blocks
from bot.core import BOT, Refused, Shipbot
from bot.models import Document, DocumentKind
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import ReportJob
from bot.store.jobs import RetryLater

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


def report(bot: Shipbot, user: str, period: str) -> Message:
    """Spend since the start of `period`; the CSV goes to the requester's DM by a job."""
    if period not in PERIODS:
        raise Refused("Try `/ship report today` or `/ship report week`.", "unknown period")
    since, label = report_period(period, bot.now(), bot.settings.timezone)
    rows = bot.store.spend(since)
    bot.store.audit(user, "report", f"{period}: {sum(r['count'] for r in rows)} labels")
    bot.jobs.submit(ReportJob(user=user, period=period))
    return report_blocks.spend_report(rows, label)


def _job_report(bot: Shipbot, payload: ReportJob) -> None:
    """The spend report as CSV, in the requester's DM (Slack needs a D… conversation)."""
    user, period = payload.user, payload.period
    since, label = report_period(period, bot.now(), bot.settings.timezone)
    rows = bot.store.spend(since)
    day = bot.now().astimezone(bot.settings.timezone).strftime("%Y-%m-%d")
    document = Document(
        kind=DocumentKind.REPORT,
        name=f"shipbot-spend-{period}-{day}.csv",
        content_type="text/csv",
        data=spend_csv(rows),
    )
    try:
        dm = bot.slack.open_dm(user)
        bot.slack.upload_one(dm, None, document)
    except SlackProblem as exc:
        raise RetryLater(exc.error) from exc
    bot.store.audit(BOT, "report", f"CSV sent ({label})", detail=document.name)


def register(bot: Shipbot) -> None:
    bot.jobs.register(ReportJob, lambda payload: _job_report(bot, payload))
