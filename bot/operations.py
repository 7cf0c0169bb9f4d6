"""Agent operations: status with tracking, find, list, relabel, cancel, audit, App Home.

Listeners call the entry points (`command`, `*_clicked`, `home_opened`). Those read SQLite
and queue a job, nothing else, so the ack leaves within milliseconds; everything that
talks to the carrier or uploads runs on the job runner and answers through the
interaction's response_url (ephemeral: only the agent who asked sees it).

`/ship status` always answers from a job: it acks "⏳ Looking up …" and the job sends one
complete card (the carrier's state, tracking, the thread's permalink). Answering from the
store first and refreshing later would show the agent two cards that may disagree.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from datetime import time as day_start
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from blocks import Message, context, escape, section
from blocks import operations as render
from bot import messages
from bot.carrier.client import CarrierClient, LabelFormat
from bot.carrier.errors import CarrierError, OutcomeUnknown
from bot.jobs import JobRunner
from bot.locks import ConsignmentLocks
from bot.models import (
    ConsignmentRecord,
    ConsignmentState,
    ConsignmentStatus,
    Document,
    DocumentKind,
    Step,
    TrackingEvent,
)
from bot.permissions import Action, Permissions
from bot.settings import Settings
from bot.slackio import SlackOut, SlackProblem
from bot.store import Store

log = logging.getLogger("shipbot.operations")

MAX_ARGUMENT = 200
FIND_LEAST = 2
FIND_LIMIT = 20
PAGE_SIZE = 20
LIST_MODES = ("open", "today", "all")
LABEL_FORMATS: dict[str, LabelFormat] = {"pdf": "PDF", "zpl": "ZPL"}
OPERATIONS = frozenset({"status", "find", "list", "label", "reprint", "cancel", "audit"})

# What each command needs, with an example, for "you forgot the argument".
USAGE: dict[str, tuple[str, str]] = {
    "status": ("a reference, order number or shipper reference", "/ship status EC-000-05B-MMA"),
    "find": ("something to look for", "/ship find SW1A"),
    "label": ("a reference", "/ship label EC-000-05B-MMA zpl"),
    "reprint": ("a reference", "/ship label EC-000-05B-MMA"),
    "cancel": ("a reference", "/ship cancel EC-000-05B-MMA"),
    "audit": ("a reference", "/ship audit EC-000-05B-MMA"),
}

# Our steps from which a cancel may go ahead (CANCELLING: a cancel that died half-way).
CANCELLABLE = (
    Step.QUOTED,
    Step.AWAITING_APPROVAL,
    Step.EXPIRED,
    Step.FAILED,
    Step.ALLOCATED,
    Step.LABEL_SAVED,
    Step.UPLOADED,
    Step.CANCELLING,
)
# Carrier states in which Cancel Consignment can still work.
_CARRIER_CANCELLABLE = frozenset(
    {
        ConsignmentState.UNALLOCATED,
        ConsignmentState.ALLOCATION_FAILED,
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFEST_FAILED,
    }
)
_NOT_TEXT = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


class Refused(Exception):
    """A request we answer with a sentence and nothing else: nothing changed."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason


def utcnow() -> datetime:
    return datetime.now(UTC)


def clean_argument(raw: str) -> str:
    """The text after the subcommand, or Refused: too long, or not text at all."""
    # Slack escapes these three in command text; agents typed the characters.
    text = raw.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
    if len(text) > MAX_ARGUMENT:
        raise Refused(
            messages.ARGUMENT_TOO_LONG.format(length=len(text), limit=MAX_ARGUMENT), "too long"
        )
    if any(unicodedata.category(ch) in _NOT_TEXT or ch == "\ufffd" for ch in text):
        raise Refused(messages.ARGUMENT_NOT_TEXT, "not text")
    return " ".join(text.split())


def shown(text: str, limit: int = 40) -> str:
    """User text quoted back: escaped, and short."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(text).replace("`", "'")


class Operations:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        carrier: CarrierClient,
        slack: SlackOut,
        runner: JobRunner,
        *,
        clock: Callable[[], datetime] = utcnow,
        locks: ConsignmentLocks | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.carrier = carrier
        self.slack = slack
        self.runner = runner
        self.clock = clock
        self.locks = locks or ConsignmentLocks()
        self.permissions = Permissions(settings)
        runner.register("op_status", self._job_status)
        runner.register("op_label", self._job_label)
        runner.register("op_cancel", self._job_cancel)
        runner.register("op_home", self._job_home)
        runner.register("op_answer", self._job_answer)

    # == entry points (listener threads: SQLite and a queued job only) ==================
    def command(
        self, sub: str, argument: str, *, user: str, channel: str, response_url: str | None
    ) -> Message:
        """`/ship <sub> <argument>`: the ephemeral ack (an answer, a refusal or "⏳ …")."""
        started = time.monotonic()
        try:
            message, c, outcome = self._command(sub, argument, user, channel, response_url)
        except Refused as refused:
            message, c, outcome = render.notice(refused.text), None, f"refused:{refused.reason}"
        self._log(sub, c, outcome, started)
        return message

    def status_clicked(
        self, cid: int, *, user: str, channel: str, response_url: str | None
    ) -> None:
        c = self.store.get(cid)
        if c is None:
            self._answer(channel, user, response_url, render.notice(messages.UNKNOWN_CONSIGNMENT))
            return
        self._queue_status(c, user, channel, response_url)

    def reprint_clicked(
        self, cid: int, *, user: str, channel: str, response_url: str | None
    ) -> None:
        c = self.store.get(cid)
        refusal = messages.UNKNOWN_CONSIGNMENT if c is None else self.label_refusal(c)
        if c is None or refusal:
            self._answer(channel, user, response_url, render.notice(refusal or ""))
            self._log("reprint", c, "refused", time.monotonic())
            return
        self._queue_label(c, "PDF", user, channel, response_url)

    def cancel_clicked(
        self, cid: int, *, user: str, channel: str, response_url: str | None
    ) -> None:
        c = self.store.get(cid)
        if c is None:
            refusal: str | None = messages.UNKNOWN_CONSIGNMENT
        else:
            refusal = self.may_cancel(c, user) or self.cancel_refusal(c)
        if c is None or refusal:
            if c is not None:
                self.store.audit(user, "cancel", "refused", consignment_id=c.id)
            self._answer(channel, user, response_url, render.notice(refusal or ""))
            self._log("cancel", c, "refused", time.monotonic())
            return
        self.runner.submit(
            "op_cancel",
            {"cid": c.id, "user": user, "channel": channel, "response_url": response_url},
            dedupe_key=f"cancel:{c.id}",
        )

    def list_clicked(
        self, value: str, *, user: str, channel: str, response_url: str | None
    ) -> None:
        """ "Next page": the value is `mode:offset`, checked like anything else from outside."""
        mode, _, offset = value.partition(":")
        if mode not in LIST_MODES or not offset.isdigit() or len(offset) > 6:
            log.warning("list page with an unreadable value was ignored")
            return
        self._answer(channel, user, response_url, self.list_message(mode, channel, int(offset)))

    def home_opened(self, user: str) -> None:
        self.runner.submit("op_home", {"user": user}, dedupe_key=f"home:{user}")

    # == commands =========================================================================
    def _command(
        self, sub: str, raw: str, user: str, channel: str, response_url: str | None
    ) -> tuple[Message, ConsignmentRecord | None, str]:
        argument = clean_argument(raw)
        if sub in USAGE and not argument:
            what, example = USAGE[sub]
            text = messages.ARGUMENT_MISSING.format(command=sub, what=what, example=example)
            raise Refused(text, "no argument")
        if sub == "find":
            return self._find(argument), None, "answered"
        if sub == "list":
            mode = (argument or "open").lower()
            if mode not in LIST_MODES:
                raise Refused(messages.LIST_UNKNOWN.format(got=shown(mode)), "unknown list")
            return self.list_message(mode, channel, 0), None, "answered"
        if sub in ("label", "reprint"):
            c, label_format = self._label_arguments(argument)
            refusal = self.label_refusal(c)
            if refusal:
                return render.notice(refusal), c, "refused"
            self._queue_label(c, label_format, user, channel, response_url)
            text = messages.LABEL_QUEUED.format(fmt=label_format, ref=render.ref(c))
            return render.notice(text), c, "queued"
        c = self._lookup(argument)
        if sub == "status":
            self._queue_status(c, user, channel, response_url)
            return render.notice(messages.STATUS_LOOKING.format(ref=render.ref(c))), c, "queued"
        if sub == "cancel":
            refusal = self.may_cancel(c, user) or self.cancel_refusal(c)
            if refusal:
                self.store.audit(user, "cancel", "refused", consignment_id=c.id)
                return render.notice(refusal), c, "refused"
            return render.cancel_confirm(c), c, "confirm-asked"
        if sub == "audit":
            entries = self.store.audit_log(c.id)
            message = render.audit_message(c, entries, self.store.manifest_of(c.id))
            return message, c, "answered"
        raise Refused(messages.UNKNOWN_CONSIGNMENT, "unknown operation")

    def _lookup(self, text: str) -> ConsignmentRecord:
        c = self.store.find_by_reference(text)
        if c is None:
            raise Refused(messages.NOT_FOUND.format(ref=shown(text)), "not found")
        return c

    def _find(self, text: str) -> Message:
        if len(text) < FIND_LEAST:
            raise Refused(messages.FIND_TOO_SHORT.format(least=FIND_LEAST), "too short")
        records, total = self.store.search_consignments(text, limit=FIND_LIMIT)
        if total == 0:
            return render.notice(messages.FIND_NOTHING.format(text=shown(text)))
        return render.find_results(shown(text), records, total, limit=FIND_LIMIT)

    def list_message(self, mode: str, channel: str, offset: int) -> Message:
        records, total = self.store.list_consignments(
            channel_id=channel,
            since=self.midnight() if mode == "today" else None,
            exclude_steps=(Step.MANIFESTED, Step.CANCELLED) if mode == "open" else (),
            limit=PAGE_SIZE,
            offset=offset,
        )
        if total == 0:
            what = {"open": "open consignments", "today": "consignments today"}.get(
                mode, "consignments"
            )
            return render.notice(messages.LIST_EMPTY.format(what=what))
        if not records:  # the list shrank since the page before was shown
            return self.list_message(mode, channel, 0)
        return render.list_page(mode, channel, records, total, offset=offset, page_size=PAGE_SIZE)

    def _label_arguments(self, argument: str) -> tuple[ConsignmentRecord, LabelFormat]:
        """ "EC-1" or "EC-1 zpl"; a reference with a space in it still works on its own."""
        head, _, tail = argument.rpartition(" ")
        if head:
            c = self.store.find_by_reference(head)
            if c is not None:
                label_format = LABEL_FORMATS.get(tail.lower())
                if label_format is None:
                    example = f"/ship label {c.reference} zpl"
                    text = messages.LABEL_FORMAT_UNKNOWN.format(got=shown(tail), example=example)
                    raise Refused(text, "unknown format")
                return c, label_format
        return self._lookup(argument), "PDF"

    def midnight(self) -> datetime:
        """Today's start in SHIPBOT_TIMEZONE: "today" is the warehouse's day, not UTC's."""
        tz = self.settings.timezone
        return datetime.combine(self.clock().astimezone(tz).date(), day_start.min, tzinfo=tz)

    # == refusals (no carrier call) =======================================================
    def label_refusal(self, c: ConsignmentRecord) -> str | None:
        r = render.ref(c)
        if c.step in (Step.CANCELLED, Step.CANCELLING):
            return messages.LABEL_VOID.format(ref=r)
        if c.step in (Step.CLAIMED, Step.ALLOCATING, Step.ALLOCATED, Step.LABEL_SAVED):
            return messages.LABEL_ON_ITS_WAY.format(ref=r)
        if c.allocation is None:
            return messages.LABEL_NOT_YET.format(ref=r)
        if not c.message_ts or not c.carrier_reference:
            return messages.LABEL_NO_THREAD.format(ref=r)
        return None

    def may_cancel(self, c: ConsignmentRecord, user: str) -> str | None:
        """The role check, before anything else (and before any carrier call)."""
        if self.permissions.allows(Action.CANCEL, user):
            return None
        self.store.audit(user, "cancel", "refused (not allowed)", consignment_id=c.id)
        return self.permissions.refusal(Action.CANCEL)

    def cancel_refusal(self, c: ConsignmentRecord) -> str | None:
        r = render.ref(c)
        match c.step:
            case Step.CANCELLED:
                return messages.CANCEL_ALREADY.format(ref=r)
            case Step.MANIFESTED:
                when = f" {render.when(c.manifested_at)}" if c.manifested_at else ""
                return messages.CANCEL_TOO_LATE.format(
                    ref=r, when=when, carrier=_carrier(c), tracking=_tracking(c)
                )
            case Step.NEW | Step.CREATING | Step.CREATED | Step.QUOTING:
                return messages.CANCEL_STILL_QUOTING.format(ref=r)
            case Step.CLAIMED | Step.ALLOCATING:
                return messages.CANCEL_ALLOCATING.format(ref=r)
        if c.step not in CANCELLABLE:  # a step added later: wait until it settles
            return messages.CANCEL_BUSY.format(ref=r, state=render.step_label(c))
        return None

    # == jobs =============================================================================
    def _queue_status(
        self, c: ConsignmentRecord, user: str, channel: str, response_url: str | None
    ) -> None:
        payload = {"cid": c.id, "user": user, "channel": channel, "response_url": response_url}
        self.runner.submit("op_status", payload)

    def _queue_label(
        self,
        c: ConsignmentRecord,
        label_format: LabelFormat,
        user: str,
        channel: str,
        response_url: str | None,
    ) -> None:
        self.runner.submit(
            "op_label",
            {
                "cid": c.id,
                "format": label_format,
                "user": user,
                "channel": channel,
                "response_url": response_url,
            },
            dedupe_key=f"label:{c.id}:{label_format}",
        )

    def _locked(self, cid: int) -> AbstractContextManager[None]:
        """One change at a time per consignment: shared with the flow's own steps."""
        return self.locks.hold(cid)

    def _job_answer(self, payload: dict[str, Any]) -> None:
        message = Message(text=payload["text"], blocks=payload["blocks"])
        self._send(payload["channel"], payload["user"], payload.get("response_url"), message)

    def _job_status(self, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        user, channel, response_url = _who(payload)
        c = self.store.get(int(payload["cid"]))
        if c is None:
            self._send(channel, user, response_url, render.notice(messages.UNKNOWN_CONSIGNMENT))
            return
        checked: ConsignmentStatus | None = None
        events: tuple[TrackingEvent, ...] = ()
        note = correlation = None
        outcome = "store-only"
        if c.carrier_reference and c.step is not Step.CANCELLED:
            try:
                checked = self.carrier.get_consignment(c.carrier_reference)
            except CarrierError as exc:
                note = f"{messages.carrier_problem('lookup', exc)} {messages.STATUS_STALE}"
                correlation = exc.correlation_id
                outcome = f"carrier-failed:{type(exc).__name__}"
            else:
                outcome = f"carrier:{checked.raw_state or '-'}"
                if c.allocation or checked.tracking_numbers:
                    events = self._tracking(c.carrier_reference)
        view = render.StatusView(
            record=c,
            history=self.store.audit_log(c.id),
            manifest=self.store.manifest_of(c.id),
            checked=checked,
            checked_at=self.clock() if checked else None,
            events=events,
            carrier_note=note,
            correlation_id=correlation,
            permalink=self._permalink(c),
        )
        self._send(channel, user, response_url, render.status_card(view, self.settings.timezone))
        self._log("status", c, outcome, started, correlation)

    def _tracking(self, reference: str) -> tuple[TrackingEvent, ...]:
        """Tracking is a nice-to-have on a GUESSED route: without it, status still answers."""
        try:
            return self.carrier.get_tracking(reference)
        except CarrierError as exc:
            log.info(
                "tracking unavailable ref=%s error=%s correlation=%s",
                reference,
                type(exc).__name__,
                exc.correlation_id or "-",
            )
            return ()

    def _job_label(self, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        user, channel, response_url = _who(payload)
        cid = int(payload["cid"])
        label_format: LabelFormat = "ZPL" if payload.get("format") == "ZPL" else "PDF"
        with self._locked(cid):
            c = self.store.get(cid)
            refusal = messages.UNKNOWN_CONSIGNMENT if c is None else self.label_refusal(c)
            if c is None or refusal:
                self._send(channel, user, response_url, render.notice(refusal or ""))
                self._log("label", c, "refused", started)
                return
            assert c.carrier_reference and c.message_ts
            document = self._stored_label(c, label_format)
            source = "store"
            if document is None:
                try:
                    document = self.carrier.get_label(c.carrier_reference, label_format)
                except CarrierError as exc:
                    self._carrier_refused(c, "reprint", "label", exc, user, channel, response_url)
                    self._log("label", c, f"failed:{type(exc).__name__}", started, exc)
                    return
                self.store.save_documents(c.id, [document])
                source = "carrier"
            try:
                self.slack.upload_one(c.channel_id, c.message_ts, document)
            except SlackProblem as exc:
                text = (
                    messages.NOT_IN_CHANNEL.format(channel=c.channel_id)
                    if exc.membership
                    else messages.LABEL_UPLOAD_FAILED.format(ref=render.ref(c))
                )
                self.store.audit(user, "reprint", "failed: slack", consignment_id=c.id)
                self._send(channel, user, response_url, render.notice(f"⚠️ {text}"))
                self._log("label", c, f"upload-failed:{exc.error}", started)
                return
            self.store.mark_uploaded(c.id, document.name)
            self.store.audit(user, "reprint", "ok", consignment_id=c.id, detail=document.name)
        text = f"🧾 {escape(document.name)} is in the thread."
        self._send(channel, user, response_url, self._with_link(text, c))
        self._log("label", c, f"uploaded:{source}", started)

    def _stored_label(self, c: ConsignmentRecord, label_format: LabelFormat) -> Document | None:
        suffix = "." + label_format.lower()
        return next(
            (
                d
                for d in self.store.documents(c.id)
                if d.kind is DocumentKind.LABEL and d.name.lower().endswith(suffix)
            ),
            None,
        )

    def _job_cancel(self, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        user, channel, response_url = _who(payload)
        cid = int(payload["cid"])
        with self._locked(cid):
            c = self.store.get(cid)
            refusal = messages.UNKNOWN_CONSIGNMENT if c is None else self.cancel_refusal(c)
            if c is None or refusal:
                if c is not None:
                    self.store.audit(user, "cancel", "refused", consignment_id=c.id)
                self._send(channel, user, response_url, render.notice(refusal or ""))
                self._log("cancel", c, "refused", started)
                return
            # Hold it first: from CANCELLING no click claims a quote and the flow stops.
            if not self.store.set_step(c.id, Step.CANCELLING, expect=CANCELLABLE):
                fresh = self.store.get(cid)
                text = (fresh and self.cancel_refusal(fresh)) or messages.CANCEL_ALREADY.format(
                    ref=render.ref(c)
                )
                self._send(channel, user, response_url, render.notice(text))
                self._log("cancel", c, "moved-on", started)
                return
            self.slack.show_channel(self.store.require(c.id))
            via = "no carrier reference"
            if c.carrier_reference:
                try:
                    self.carrier.cancel(c.carrier_reference)
                    via = "carrier"
                except CarrierError as exc:
                    if not self._cancelled_anyway(c, exc, user, channel, response_url):
                        self._log("cancel", c, f"failed:{type(exc).__name__}", started, exc)
                        return
                    via = "lookup"
            self.store.set_step(c.id, Step.CANCELLED, expect=[Step.CANCELLING])
            outcome = "ok" if via == "carrier" else f"ok ({via})"
            self.store.audit(user, "cancel", outcome, consignment_id=c.id, detail=c.reference)
            done = self.store.require(c.id)
            self._record_cancel(done, user, self.clock())
        text = messages.CANCEL_DONE.format(ref=render.ref(c))
        self._send(channel, user, response_url, self._with_link(text, done))
        self._log("cancel", c, outcome, started)

    def _cancelled_anyway(
        self,
        c: ConsignmentRecord,
        exc: CarrierError,
        user: str,
        channel: str,
        response_url: str | None,
    ) -> bool:
        """The cancel failed or its answer was lost: look before saying anything."""
        assert c.carrier_reference
        try:
            status: ConsignmentStatus | None = self.carrier.get_consignment(c.carrier_reference)
        except CarrierError:
            status = None
        if status is not None and status.state is ConsignmentState.CANCELLED:
            return True
        self._undo_hold(c)
        r = render.ref(c)
        if status is not None and status.state not in _CARRIER_CANCELLABLE:
            words = render.carrier_state_text(status).split(" ", 1)[-1].lower()
            text = messages.CANCEL_TOO_LATE_AT_CARRIER.format(
                ref=r, state=words, carrier=_carrier(c), tracking=_tracking(c)
            )
            self.store.audit(
                user,
                "cancel",
                f"refused (carrier says {status.raw_state})",
                consignment_id=c.id,
                correlation_id=exc.correlation_id,
            )
            self._send(channel, user, response_url, render.notice(text))
            return False
        if status is None and isinstance(exc, OutcomeUnknown):
            self.store.audit(
                user, "cancel", "unclear", consignment_id=c.id, correlation_id=exc.correlation_id
            )
            self._send(
                channel, user, response_url, render.notice(messages.CANCEL_UNCLEAR.format(ref=r))
            )
            return False
        self._carrier_refused(c, "cancel", "cancel", exc, user, channel, response_url)
        return False

    def _undo_hold(self, c: ConsignmentRecord) -> None:
        """Back to where it was; a hold left by a dead process goes to the nearest rest."""
        if c.step is Step.CANCELLING:
            back = Step.UPLOADED if c.allocation else Step.EXPIRED
        else:
            back = c.step
        problem = c.problem if back is Step.FAILED else None
        self.store.set_step(c.id, back, expect=[Step.CANCELLING], problem=problem)
        self.slack.show_channel(self.store.require(c.id))

    def _carrier_refused(
        self,
        c: ConsignmentRecord,
        action: str,
        step: str,
        exc: CarrierError,
        user: str,
        channel: str,
        response_url: str | None,
    ) -> None:
        self.store.audit(
            user,
            action,
            f"failed: {type(exc).__name__}",
            consignment_id=c.id,
            correlation_id=exc.correlation_id,
        )
        text = f"⚠️ {messages.carrier_problem(step, exc)}"
        blocks = [section(text)]
        if exc.correlation_id:
            blocks.append(context(f"Carrier correlation id for support: `{exc.correlation_id}`"))
        self._send(channel, user, response_url, Message(text=text, blocks=blocks))

    def _record_cancel(self, c: ConsignmentRecord, user: str, at: datetime) -> None:
        """The channel message says ❌ Cancelled; the thread keeps who did it; no live buttons."""
        if c.message_ts is None:
            return
        self.slack.show_channel(c)
        try:
            if c.quotes_ts:
                self.slack.update(c.channel_id, c.quotes_ts, render.cancelled_replacement(c))
            self.slack.post_joining(
                c.channel_id, render.cancelled_note(c, user, at), thread_ts=c.message_ts
            )
        except SlackProblem as exc:
            log.warning("could not record the cancel of consignment %s: %s", c.id, exc.error)

    def _job_home(self, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        user = str(payload["user"])
        midnight = self.midnight()
        groups = []
        for title, steps in render.HOME_GROUPS:
            records, count = self.store.list_consignments(
                since=midnight, steps=tuple(steps), limit=render.HOME_LINES_PER_GROUP
            )
            groups.append((title, records, count))
        view = render.home_view(
            groups,
            self.store.last_manifest(),
            midnight=midnight,
            now=self.clock(),
            tz_name=self.settings.shipbot_timezone,
        )
        try:
            self.slack.client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            log.warning("App Home not published: %s", exc.response.get("error"))
            return
        except (SlackClientError, OSError) as exc:
            log.warning("App Home not published: %s", type(exc).__name__)
            return
        self._log("home", None, f"published:{len(view['blocks'])}-blocks", started)

    # == Slack ============================================================================
    def _answer(self, channel: str, user: str, response_url: str | None, message: Message) -> None:
        """From a listener: the worker sends it, so the ack never waits on Slack."""
        self.runner.submit(
            "op_answer",
            {
                "channel": channel,
                "user": user,
                "response_url": response_url,
                "text": message.text,
                "blocks": message.blocks,
            },
        )

    def _send(self, channel: str, user: str, response_url: str | None, message: Message) -> None:
        """Ephemeral, through the response_url; chat.postEphemeral if that one is spent."""
        if not channel and not response_url:
            log.warning("an answer to %s was dropped: no response_url and no channel", user)
            return
        try:
            self.slack.ephemeral(channel, user, message, response_url=response_url)
        except SlackProblem as exc:
            log.warning("an answer to %s was dropped: %s", user, exc.error)

    def _permalink(self, c: ConsignmentRecord) -> str | None:
        return self.slack.permalink(c.channel_id, c.message_ts) if c.message_ts else None

    def _with_link(self, text: str, c: ConsignmentRecord) -> Message:
        link = self._permalink(c)
        full = f"{text} <{link}|Open the thread>" if link else text
        return Message(text=text, blocks=[section(full)])

    # == logs =============================================================================
    def _log(
        self,
        op: str,
        c: ConsignmentRecord | None,
        outcome: str,
        started: float,
        correlation: CarrierError | str | None = None,
    ) -> None:
        """One line per operation; ids and states only, never the recipient's details."""
        if isinstance(correlation, CarrierError):
            correlation = correlation.correlation_id
        log.info(
            "operation op=%s consignment=%s ref=%s outcome=%s duration_ms=%.0f correlation=%s",
            op,
            c.id if c else "-",
            (c.carrier_reference if c else None) or "-",
            "-".join(outcome.split()),  # one token, so key=value parsers read it whole
            (time.monotonic() - started) * 1000,
            correlation or "-",
        )


def _who(payload: dict[str, Any]) -> tuple[str, str, str | None]:
    return str(payload["user"]), str(payload.get("channel") or ""), payload.get("response_url")


def _carrier(c: ConsignmentRecord) -> str:
    return escape(c.allocation.carrier_name) if c.allocation else "the carrier"


def _tracking(c: ConsignmentRecord) -> str:
    numbers = c.allocation.tracking_numbers if c.allocation else ()
    return ", ".join(escape(n) for n in numbers) or "(none given)"
