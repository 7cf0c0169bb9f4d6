"""The delivery watcher: what happens to a parcel after its manifest comes to the desk.

Every SHIPBOT_TRACK_EVERY seconds one tick:
1. asks Sorted PRO's state events query for the changes since the last window (windows
   are contiguous: each starts OVERLAP before the previous end, and the cursor is in the
   store, so a restart neither misses nor repeats a window). A quiet carrier costs one query.
   Where the query is refused (404 on both documented paths) it reads our consignments still
   on the way instead, SHIPBOT_TRACK_PER_MINUTE Get Consignment calls a minute at most.
2. records each (consignment, state) once ever (`bot/store/delivery.py`), then posts what is
   still to post: one line in our consignment's thread (an exception: its own message that
   mentions the agent, with Ship a replacement / Status / Handled), the channel message's
   state line follows; exceptions of any consignment of the account, ours or the webshop's,
   go to SHIPBOT_EXCEPTIONS_CHANNEL, grouped into few messages.
3. once a day at SHIPBOT_DIGEST_AT (the team's time zone) posts the late list there.

Posting runs on the watcher's own thread, through the paced sender; what Slack refuses for
now (rate limits, a blip) stays pending in the store and goes with the next tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from blocks import Block
from blocks import delivery as render
from bot.carrier.client import EventsUnavailable
from bot.carrier.errors import CarrierError
from bot.carrier_states import ConsignmentState, LateConsignment, StateChange
from bot.core import BOT, Shipbot
from bot.desk.show import show_channel
from bot.models import ConsignmentRecord
from bot.slack.slackio import SlackProblem
from bot.store.delivery import PendingChange

log = logging.getLogger("shipbot.watch")

# Every state after the manifest: each change of ours is told in its thread.
WATCHED_STATES = tuple(
    sorted(
        s.value
        for s in ConsignmentState
        if s.manifested_or_later
        and s not in (ConsignmentState.MANIFESTING, ConsignmentState.MANIFESTED)
    )
)
# Each window starts this long before the previous one ended: a change PRO records a little
# late (or a clock a little apart) still falls in a window; de-duplication drops repeats.
OVERLAP = timedelta(seconds=60)
# Where the events query was refused, it is asked again after this long (cheap, and an
# account may gain it).
REPROBE_EVENTS = timedelta(hours=1)
CURSOR = "events_cursor"
LATE_DAY = "late_list_day"


@dataclass
class TickReport:
    """What one tick did (tests and the closing note's call counts read it)."""

    mode: str = "events"
    carrier_calls: int = 0
    changes: int = 0
    posted: int = 0
    window: tuple[datetime, datetime] | None = None
    late_posted: bool = False
    problems: list[str] = field(default_factory=list)


class Watcher:
    def __init__(self, bot: Shipbot) -> None:
        self.bot = bot
        self.every = float(bot.settings.shipbot_track_every)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_lock = threading.Lock()
        self._events_refused_until: datetime | None = None
        self._polls: deque[float] = deque()

    # -- running -------------------------------------------------------------------
    def start(self) -> None:
        """The first tick comes one interval after start (a restart re-asks its window)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shipbot-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # a bug: logged, and the next tick tries again
                log.exception("delivery watcher tick failed")

    # -- one tick ----------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        with self._tick_lock:
            now = now or self.bot.now()
            report = TickReport()
            self._ask(now, report)
            self._post_threads(now, report)
            self._post_channel(now, report)
            self._late_list(now, report)
            log.info(
                "watch tick mode=%s carrier_calls=%d changes=%d posted=%d",
                report.mode,
                report.carrier_calls,
                report.changes,
                report.posted,
            )
            return report

    def _ask(self, now: datetime, report: TickReport) -> None:
        if self._events_refused_until is not None and now < self._events_refused_until:
            self._poll(now, report)
            return
        store = self.bot.store
        mark = store.mark(CURSOR)
        since = datetime.fromisoformat(mark) if mark else now - timedelta(seconds=self.every)
        start = min(since, now) - OVERLAP
        report.window = (start, now)
        report.carrier_calls += 1
        try:
            changes = self.bot.carrier.state_events(WATCHED_STATES, start, now)
        except EventsUnavailable as exc:
            report.carrier_calls += 1  # both documented paths were asked
            log.warning("%s: reading consignments on the way instead", exc.message)
            self._events_refused_until = now + REPROBE_EVENTS
            self._poll(now, report)
            return
        except CarrierError as exc:
            # The cursor stays: the next tick asks for this window too (a longer one).
            report.problems.append(type(exc).__name__)
            log.warning("state events query failed (%s); asked again next tick", exc)
            return
        self._events_refused_until = None
        for change in changes:
            report.changes += self._note(change, now)
        store.set_mark(CURSOR, now.isoformat())

    def _poll(self, now: datetime, report: TickReport) -> None:
        """The fallback: Get Consignment for ours on the way, a bounded number a minute."""
        report.mode = "fallback"
        clock = time.monotonic()
        while self._polls and clock - self._polls[0] >= 60:
            self._polls.popleft()
        budget = self.bot.settings.shipbot_track_per_minute - len(self._polls)
        if budget <= 0:
            return
        for cid, reference in self.bot.store.watched(budget):
            self._polls.append(clock)
            report.carrier_calls += 1
            try:
                status = self.bot.carrier.get_consignment(reference)
            except CarrierError as exc:
                report.problems.append(type(exc).__name__)
                log.warning("fallback look-up of %s failed: %s", reference, type(exc).__name__)
                break
            record = self.bot.store.get(cid)
            known = record.delivery.state if record and record.delivery else None
            self.bot.store.checked(cid, now, status.state, status.raw_state)
            if status.state.value in WATCHED_STATES and status.state is not known:
                change = StateChange(
                    reference=status.reference.upper(),
                    state=status.state,
                    raw_state=status.raw_state,
                    order_number=status.shipper_reference,
                    tracking_numbers=status.tracking_numbers,
                    service_name=status.service_name,
                    latest_delivery=status.latest_delivery,
                )
                report.changes += self._note(change, now)

    def _note(self, change: StateChange, now: datetime) -> int:
        cid = self.bot.store.id_of_carrier_reference(change.reference)
        to_channel = bool(self.bot.settings.shipbot_exceptions_channel) and change.state.exception
        return int(self.bot.store.note_change(change, cid, to_channel=to_channel, at=now))

    # -- into the thread ------------------------------------------------------------------
    def _post_threads(self, now: datetime, report: TickReport) -> None:
        for pending in self.bot.store.pending_changes("thread"):
            if not self._post_thread(pending, now, report):
                return  # Slack said wait: the rest go next tick

    def _post_thread(self, pending: PendingChange, now: datetime, report: TickReport) -> bool:
        bot = self.bot
        assert pending.consignment_id is not None
        change = pending.change
        with bot.locked(pending.consignment_id):
            c = bot.store.get(pending.consignment_id)
            if c is None or c.message_ts is None:
                bot.store.change_done(pending.row, "thread")  # no thread to tell
                return True
            signed_by = self._signed_by(c, change, report)
            current = c.delivery.state if c.delivery else None
            # The state line never goes back from a journey's end (an older change that
            # arrives late is still told in the thread, once).
            moves_line = current is None or not current.journey_over or change.state.journey_over
            if moves_line:
                bot.store.set_delivery(
                    c.id, change.state, change.raw_state, now, signed_by=signed_by
                )
            if change.state.exception:
                notify = bot.settings.shipbot_exceptions_notify
                message = render.exception_notice(c, change, now, notify)
            else:
                message = render.change_line(c, change, now, signed_by)
            try:
                ts = bot.slack.post_joining(c.channel_id, message, thread_ts=c.thread_ts)
            except SlackProblem as exc:
                if exc.ratelimited or exc.auth or not exc.fatal:
                    log.info("thread line for %s waits: %s", c.reference, exc.error)
                    return False
                log.warning("thread line for %s not posted: %s", c.reference, exc.error)
                bot.store.audit(
                    BOT, "carrier_state", f"not posted: {exc.error}", consignment_id=c.id
                )
                bot.store.change_done(pending.row, "thread")
                return True
            bot.store.change_done(pending.row, "thread")
            report.posted += 1
            if change.state.exception and moves_line:
                bot.store.set_notice(c.id, ts)
            bot.store.audit(
                BOT, "carrier_state", change.raw_state, consignment_id=c.id, detail=c.reference
            )
            refreshed = bot.store.get(c.id)
            if refreshed is not None:
                show_channel(bot, refreshed)
        return True

    def _signed_by(
        self, c: ConsignmentRecord, change: StateChange, report: TickReport
    ) -> str | None:
        """Delivered: who signed, from the tracking's last SignedBy (one call a delivery)."""
        if change.state not in (ConsignmentState.DELIVERED, ConsignmentState.PARTIALLY_DELIVERED):
            return None
        report.carrier_calls += 1
        try:
            scans = self.bot.carrier.get_tracking(change.reference)
        except CarrierError as exc:
            log.info("no signature for %s: %s", c.reference, type(exc).__name__)
            return None
        return next((e.signed_by for e in reversed(scans) if e.signed_by), None)

    # -- the exceptions channel -----------------------------------------------------------
    def _post_channel(self, now: datetime, report: TickReport) -> None:
        channel = self.bot.settings.shipbot_exceptions_channel
        pending = self.bot.store.pending_changes("channel", limit=render.ITEMS_PER_MESSAGE * 5)
        if not pending:
            return
        if not channel:
            for p in pending:
                self.bot.store.change_done(p.row, "channel")
            return
        for start in range(0, len(pending), render.ITEMS_PER_MESSAGE):
            group = pending[start : start + render.ITEMS_PER_MESSAGE]
            rows = [self._exception_row(p, report) for p in group]
            try:
                self.bot.slack.post_joining(channel, render.exceptions_message(rows, now))
            except SlackProblem as exc:
                if exc.ratelimited or not exc.fatal:
                    log.info("exceptions channel waits: %s", exc.error)
                    return
                log.error("exceptions channel %s refused the post: %s", channel, exc.error)
                return  # kept pending: a fixed channel (or membership) gets them all
            for p in group:
                self.bot.store.change_done(p.row, "channel")
            report.posted += 1

    def _exception_row(self, pending: PendingChange, report: TickReport) -> Block:
        ours = self.bot.store.get(pending.consignment_id) if pending.consignment_id else None
        if ours is not None:
            r = ours.request.recipient
            destination: str | None = f"{r.town} {r.postcode}, {r.country}"
        else:
            destination = None
            report.carrier_calls += 1
            try:
                destination = self.bot.carrier.get_consignment(pending.change.reference).destination
            except CarrierError as exc:
                log.info("no destination for %s: %s", pending.change.reference, type(exc).__name__)
        return render.exception_row(pending.change, destination, ours)

    # -- the late list --------------------------------------------------------------------
    def _late_list(self, now: datetime, report: TickReport) -> None:
        settings = self.bot.settings
        channel = settings.shipbot_exceptions_channel
        if not channel:
            return
        local = now.astimezone(settings.timezone)
        hours, minutes = settings.digest_time
        if (local.hour, local.minute) < (hours, minutes):
            return
        day = local.date().isoformat()
        last = self.bot.store.mark(LATE_DAY)
        if last == day:
            return
        if last is None and (local.hour, local.minute) > (hours, minutes):
            # The very first start, after today's time: the first list is tomorrow's (a
            # later restart after the time catches up on the day's list instead).
            self.bot.store.set_mark(LATE_DAY, day)
            return
        report.carrier_calls += 1
        try:
            late = list(self.bot.carrier.late_consignments())
        except CarrierError as exc:
            report.problems.append(type(exc).__name__)
            log.warning("late list not asked (%s); tried again next tick", type(exc).__name__)
            return
        late = self._with_ours_late(late, now)
        if late:
            message = render.late_message(late, _day_words(local.date()))
            try:
                self.bot.slack.post_joining(channel, message)
            except SlackProblem as exc:
                log.warning("late list not posted (%s); tried again next tick", exc.error)
                return
            report.posted += 1
            report.late_posted = True
        self.bot.store.set_mark(LATE_DAY, day)

    def _with_ours_late(self, late: list[LateConsignment], now: datetime) -> list[LateConsignment]:
        """Ours past their latest delivery date (and not delivered) join Sorted PRO's list."""
        known = {item.reference for item in late}
        for cid in self.bot.store.on_the_way_ids():
            c = self.bot.store.get(cid)
            quote = c.chosen_quote if c else None
            due = quote.latest_delivery if quote else None
            if c is None or due is None or c.carrier_reference is None:
                continue
            if due.tzinfo is None:
                due = due.replace(tzinfo=now.tzinfo)
            if due >= now or c.carrier_reference.upper() in known:
                continue
            r = c.request.recipient
            delivery = c.delivery
            late.append(
                LateConsignment(
                    reference=c.carrier_reference.upper(),
                    order_number=c.request.order_number,
                    state=delivery.state if delivery else ConsignmentState.MANIFESTED,
                    raw_state=delivery.raw_state if delivery else "Manifested",
                    destination=f"{r.town} {r.postcode}, {r.country}",
                    due=due,
                    consignment_id=c.id,
                )
            )
        return late


def _day_words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"
