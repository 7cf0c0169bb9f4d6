"""`/ship status`, `find`, `list`, `audit` and the App Home tab: reading, never changing.

A look-up answers only about consignments of the channel it is asked in (and the asker's
own, and everything for SHIPBOT_AUDITORS): a private channel's recipients stay there.

`/ship status` always answers from a job: it acks "⏳ Looking up …" and the job sends one
complete card (the carrier's state, tracking, the thread's permalink). Answering from the
store first and refreshing later would show the agent two cards that may disagree.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import time as day_start

from blocks import Message
from blocks import operations as render
from blocks.consignment import headline
from blocks.operations import when
from blocks.payloads import LIST_MODES, ListPageValue
from blocks.states import state_words
from bot.carrier.errors import CarrierError, UnexpectedResponse
from bot.carrier_states import TrackingEvent
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.desk.access import asker_of, clicked_consignment, consignment_for, permalink
from bot.desk.reconcile import follow_carrier
from bot.intake.arguments import log_operation, shown
from bot.models import CLOSED, ConsignmentRecord, ConsignmentStatus, Step
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import HomeJob, StatusJob

log = logging.getLogger("shipbot.operations")

FIND_LEAST = 2
FIND_LIMIT = 20
PAGE_SIZE = 20
ATTENTION_SHOWN = 10  # App Home's "Needs attention" lines


# == status ===================================================================================
def status(bot: Shipbot, argument: str, asker: Asker) -> Message:
    c = consignment_for(bot, argument, asker)
    status_later(bot, c, asker)
    return render.notice(messages.STATUS_LOOKING.format(ref=render.ref(c)))


def status_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    status_later(bot, clicked_consignment(bot, cid, asker), asker)


def status_later(bot: Shipbot, c: ConsignmentRecord, asker: Asker) -> None:
    bot.jobs.submit(StatusJob(cid=c.id, **asker.asked()))


def _job_status(bot: Shipbot, payload: StatusJob) -> None:
    started = time.monotonic()
    asker = asker_of(payload)
    c = bot.store.get(payload.cid)
    if c is None:
        bot.send(asker, render.notice(messages.UNKNOWN_CONSIGNMENT))
        return
    checked: ConsignmentStatus | None = None
    events: tuple[TrackingEvent, ...] = ()
    note = correlation = None
    outcome = "store-only"
    reference = c.carrier_reference
    if reference and c.step is not Step.CANCELLED:
        try:
            checked = bot.carrier.get_consignment(reference)
        except CarrierError as exc:
            note = f"{messages.carrier_problem('lookup', exc)} {messages.STATUS_STALE}"
            correlation = exc.correlation_id
            outcome = f"carrier-failed:{type(exc).__name__}"
        else:
            outcome = f"carrier:{checked.raw_state or '-'}"
            if follow_carrier(bot, c, checked.state):
                c = bot.store.require(c.id)
            if c.allocation or checked.tracking_numbers:
                events, note = _tracking(bot, reference)
    view = render.StatusView(
        record=c,
        history=bot.store.audit_log(c.id),
        manifest=bot.store.manifest_of(c.id),
        checked=checked,
        checked_at=bot.now() if checked else None,
        events=events,
        carrier_note=note,
        correlation_id=correlation,
        permalink=permalink(bot, c),
    )
    bot.send(asker, render.status_card(view, bot.settings.timezone))
    log_operation("status", c, outcome, started, correlation)


def _tracking(bot: Shipbot, reference: str) -> tuple[tuple[TrackingEvent, ...], str | None]:
    """Tracking is a nice-to-have: without it, status still answers, and says why.

    "Not available" (404/403) is no events and no note; a reply we can't read is said as
    such rather than shown as "no scans yet".
    """
    try:
        return bot.carrier.get_tracking(reference), None
    except CarrierError as exc:
        log.info(
            "tracking unavailable ref=%s error=%s correlation=%s",
            reference,
            type(exc).__name__,
            exc.correlation_id or "-",
        )
        if isinstance(exc, UnexpectedResponse):
            return (), messages.TRACKING_UNREADABLE
        return (), messages.TRACKING_UNAVAILABLE


# == find, list, audit ========================================================================
def find(bot: Shipbot, text: str, asker: Asker) -> Message:
    if len(text) < FIND_LEAST:
        raise Refused(messages.FIND_TOO_SHORT.format(least=FIND_LEAST), "too short")
    everywhere = bot.permissions.sees_everything(asker.user)
    records, total = bot.store.search_consignments(
        text,
        limit=FIND_LIMIT,
        channel_id=None if everywhere else asker.channel,
        user=asker.user,
    )
    if total == 0:
        return render.notice(messages.FIND_NOTHING.format(text=shown(text)))
    return render.find_results(shown(text), records, total, limit=FIND_LIMIT)


def list_page(bot: Shipbot, argument: str, asker: Asker) -> Message:
    mode = (argument or "open").lower()
    if mode not in LIST_MODES:
        raise Refused(messages.LIST_UNKNOWN.format(got=shown(mode)), "unknown list")
    return list_message(bot, mode, asker.channel, 0)


def list_clicked(bot: Shipbot, value: ListPageValue, asker: Asker) -> None:
    bot.answer(asker, list_message(bot, value.mode, asker.channel, value.offset))


def list_message(bot: Shipbot, mode: str, channel: str, offset: int) -> Message:
    records, total = bot.store.list_consignments(
        channel_id=channel,
        since=midnight(bot) if mode == "today" else None,
        exclude_steps=tuple(CLOSED) if mode == "open" else (),
        limit=PAGE_SIZE,
        offset=offset,
    )
    if total == 0:
        what = {"open": "open consignments", "today": "consignments today"}.get(
            mode, "consignments"
        )
        return render.notice(messages.LIST_EMPTY.format(what=what))
    if not records:  # the list shrank since the page before was shown
        return list_message(bot, mode, channel, 0)
    return render.list_page(mode, channel, records, total, offset=offset, page_size=PAGE_SIZE)


def audit(bot: Shipbot, argument: str, asker: Asker) -> Message:
    c = consignment_for(bot, argument, asker)
    entries = bot.store.audit_log(c.id)
    return render.audit_message(c, entries, bot.store.manifest_of(c.id))


def midnight(bot: Shipbot) -> datetime:
    """Today's start in SHIPBOT_TIMEZONE: "today" is the warehouse's day, not UTC's."""
    tz = bot.settings.timezone
    return datetime.combine(bot.now().astimezone(tz).date(), day_start.min, tzinfo=tz)


# == App Home =================================================================================
def home_opened(bot: Shipbot, user: str) -> None:
    bot.jobs.submit(HomeJob(user=user), dedupe_key=f"home:{user}")


def _job_home(bot: Shipbot, payload: HomeJob) -> None:
    """Today's consignments this user created or chose a quote for (auditors: all)."""
    started = time.monotonic()
    user = payload.user
    today = midnight(bot)
    involving = None if bot.permissions.sees_everything(user) else user
    groups = []
    for title, steps in render.HOME_GROUPS:
        records, count = bot.store.list_consignments(
            since=today,
            steps=tuple(steps),
            limit=render.HOME_LINES_PER_GROUP,
            involving=involving,
            returns=render.HOME_GROUP_RETURNS.get(title),
        )
        groups.append((title, records, count))
    view = render.home_view(
        groups,
        bot.store.last_manifest(),
        midnight=today,
        now=bot.now(),
        tz_name=bot.settings.shipbot_timezone,
        attention=attention(bot, involving),
    )
    try:
        bot.slack.publish_home(user, view)
    except SlackProblem as exc:
        log.warning("App Home not published: %s", exc.error)
        return
    log_operation("home", None, f"published:{len(view['blocks'])}-blocks", started)


def attention(bot: Shipbot, involving: str | None) -> tuple[list[str], int]:
    """App Home's "Needs attention": open exceptions and late consignments, newest first."""
    now = bot.now()
    rows: list[tuple[object, str]] = []
    for cid in bot.store.attention_ids():
        c = bot.store.get(cid)
        if c is None or not _involves(c, involving) or c.delivery is None:
            continue
        d = c.delivery
        rows.append(
            (d.at, f"{state_words(d.state, d.raw_state)} · {headline(c)} · <#{c.channel_id}>")
        )
    listed = {line for _, line in rows}
    for cid in bot.store.on_the_way_ids():
        c = bot.store.get(cid)
        quote = c.chosen_quote if c else None
        due = quote.latest_delivery if quote else None
        if c is None or due is None or not _involves(c, involving):
            continue
        if due.tzinfo is None:
            due = due.replace(tzinfo=now.tzinfo)
        if due < now and not (c.delivery and c.delivery.open_exception):
            line = f"⏰ Late (due {when(due)}) · {headline(c)} · <#{c.channel_id}>"
            if line not in listed:
                rows.append((due, line))
    rows.sort(key=lambda item: item[0], reverse=True)  # type: ignore[arg-type,return-value]
    return [line for _, line in rows[:ATTENTION_SHOWN]], len(rows)


def _involves(c: ConsignmentRecord, user: str | None) -> bool:
    return user is None or user in (c.created_by, c.claimed_by)


def register(bot: Shipbot) -> None:
    bot.jobs.register(StatusJob, lambda payload: _job_status(bot, payload))
    bot.jobs.register(HomeJob, lambda payload: _job_home(bot, payload))
