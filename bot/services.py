"""The Quotes flow: what happens after a listener has acked.

Handlers call the fast entry points (`submit`, `choose`, `try_again`, ...), which only
touch the store and queue a job. Workers run `advance`, a resumable state machine: each
step is recorded before the next carrier call, so a restart continues where the dead
process stopped, and a claim leads to at most one allocate call.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from blocks import Message
from blocks import approval as approval_blocks
from blocks import consignment as render
from blocks import manifest as manifest_blocks
from blocks import report as report_blocks
from bot import messages
from bot.carrier.client import CarrierClient
from bot.carrier.errors import CarrierError, InvalidRequest, QuoteExpired
from bot.jobs import JobRunner, RetryLater
from bot.locks import ConsignmentLocks
from bot.models import (
    Allocation,
    ConsignmentRecord,
    Document,
    DocumentKind,
    Problem,
    ShipmentRequest,
    Step,
)
from bot.permissions import Action, Permissions
from bot.report import report_period, spend_csv
from bot.settings import Settings
from bot.slackio import SlackOut, SlackProblem
from bot.store import Store

log = logging.getLogger("shipbot.flow")

BOT = "shipbot"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ChooseOutcome:
    """What the clicking agent is told, if anything (the thread shows the rest)."""

    notice: str | None


class Services:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        carrier: CarrierClient,
        slack: SlackOut,
        runner: JobRunner,
        *,
        post_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        locks: ConsignmentLocks | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.carrier = carrier
        self.slack = slack
        self.runner = runner
        self.post_interval = post_interval
        self.clock = clock
        self.locks = locks or ConsignmentLocks()
        self._pace_guard = threading.Lock()
        self.permissions = Permissions(settings)
        self._next_post: dict[str, float] = {}
        runner.register("advance", self._job_advance, on_give_up=self._advance_gave_up)
        runner.register("refresh", self._job_refresh)
        runner.register("notify", self._job_notify)
        runner.register("manifest", self._job_manifest)
        runner.register("approval", self._job_approval)
        runner.register("report", self._job_report)

    # == fast entry points (listener threads) ===========================================
    def new_shipper_reference(self) -> str:
        today = self.clock().astimezone(self.settings.timezone).strftime("%Y%m%d")
        while True:
            ref = f"SHIP-{today}-{secrets.token_hex(3).upper()}"
            if not self.store.shipper_reference_taken(ref):
                return ref

    def submit(
        self,
        request: ShipmentRequest,
        *,
        channel_id: str,
        user: str,
        response_url: str | None,
        view_id: str | None,
    ) -> int:
        """Store the form and start the flow; a replayed submission starts nothing new."""
        cid, created = self.store.add_consignment(
            request,
            channel_id=channel_id,
            created_by=user,
            response_url=response_url,
            view_id=view_id,
        )
        if created:
            self.store.audit(
                user, "submit", "ok", consignment_id=cid, detail=request.shipper_reference
            )
            self._advance_later(cid)
        else:
            self.store.audit(user, "submit", "duplicate ignored", consignment_id=cid)
        return cid

    def permit(self, action: Action, user: str, cid: int | None = None) -> str | None:
        """The refusal for `user`, audited, or None when they may go ahead."""
        if self.permissions.allows(action, user):
            return None
        self.store.audit(user, action.value, "refused (not allowed)", consignment_id=cid)
        return self.permissions.refusal(action)

    def choose(self, cid: int, quote_reference: str, user: str) -> ChooseOutcome:
        """A click on a quote: the first click wins the claim; the rest are told who has it."""
        refusal = self.permit(Action.SHIP, user, cid)
        if refusal:
            return ChooseOutcome(refusal)
        record = self.store.get(cid)
        if record is None:
            return ChooseOutcome(messages.UNKNOWN_CONSIGNMENT)
        quote = next((q for q in record.quotes if q.reference == quote_reference), None)
        clickable = (Step.QUOTED, Step.QUOTING)
        if record.step in clickable and quote is not None and quote.expires_at <= self.clock():
            # Refused by us before any call: the carrier would refuse it anyway.
            if self.store.set_step(cid, Step.EXPIRED, expect=clickable):
                self.store.audit(
                    user, "choose", "quote expired", consignment_id=cid, detail=quote_reference
                )
                self._refresh_later(cid)
            return ChooseOutcome(None)
        claim = self.store.claim_quote(
            cid, quote_reference, user, approval_above=self.settings.shipbot_approval_above
        )
        if claim.won and claim.step is Step.AWAITING_APPROVAL:
            self.store.audit(
                user, "claim", "awaiting approval", consignment_id=cid, detail=quote_reference
            )
            self.runner.submit("approval", {"cid": cid}, dedupe_key=f"approval:{cid}")
            return ChooseOutcome(None)
        if claim.won:
            self.store.audit(user, "claim", "won", consignment_id=cid, detail=quote_reference)
            self._advance_later(cid)
            return ChooseOutcome(None)
        self.store.audit(
            user,
            "claim",
            f"refused ({claim.step.value})",
            consignment_id=cid,
            detail=quote_reference,
        )
        if claim.step in (Step.CREATED, Step.QUOTING):
            return ChooseOutcome(messages.STILL_QUOTING)
        if claim.step is Step.QUOTED:
            return ChooseOutcome(messages.QUOTE_GONE)
        if claim.step in (Step.CANCELLED, Step.CANCELLING):
            return ChooseOutcome(messages.CANCELLED_ALREADY)
        if claim.step is Step.AWAITING_APPROVAL and claim.holder:
            return ChooseOutcome(messages.AWAITING_APPROVAL.format(user=claim.holder))
        if claim.step in (Step.CLAIMED, Step.ALLOCATING) and claim.holder:
            return ChooseOutcome(messages.ALREADY_CLAIMED.format(user=claim.holder))
        if claim.step is Step.EXPIRED:
            return ChooseOutcome(messages.carrier_problem("allocate", QuoteExpired("expired")))
        if claim.holder:
            return ChooseOutcome(messages.ALREADY_CLAIMED.format(user=claim.holder))
        return ChooseOutcome(messages.ALREADY_DONE)

    def try_again(self, cid: int, user: str) -> str | None:
        """Resume from the failed step; returns a notice when there is nothing to resume."""
        record = self.store.get(cid)
        if record is None:
            return messages.UNKNOWN_CONSIGNMENT
        if record.step is not Step.FAILED or record.problem is None:
            return None  # someone else pressed it first, or it already moved on
        if not self.store.set_step(cid, record.problem.step, expect=[Step.FAILED]):
            return None
        self.store.audit(
            user, "try again", f"resume at {record.problem.step.value}", consignment_id=cid
        )
        self._advance_later(cid)
        return None

    def edit_form(self, cid: int) -> tuple[ConsignmentRecord, str] | None:
        """The consignment whose form the carrier refused, and the note to show above it."""
        record = self.store.get(cid)
        if record is None or record.step is not Step.FAILED or not record.problem:
            return None
        if record.problem.step is not Step.CREATING or record.carrier_reference:
            return None
        return record, record.problem.message

    def resubmit(self, cid: int, request: ShipmentRequest, user: str) -> str | None:
        """The corrected form replaces the refused one; the same thread carries on."""
        if not self.store.replace_request(cid, request):
            return "That form was already sent again, or the consignment moved on."
        self.store.audit(user, "edit form", "resubmitted", consignment_id=cid)
        self._advance_later(cid)
        return None

    def requote(self, cid: int, user: str) -> None:
        if self.store.set_step(cid, Step.CREATED, expect=[Step.EXPIRED]):
            self.store.audit(user, "requote", "ok", consignment_id=cid)
            self._advance_later(cid)

    def decide(self, cid: int, user: str, *, approve: bool) -> str | None:
        """An approver's click: exactly one decision counts; returns a notice for the clicker."""
        refusal = self.permit(Action.APPROVE, user, cid)
        if refusal:
            return refusal
        record = self.store.get(cid)
        if record is None:
            return messages.UNKNOWN_CONSIGNMENT
        quote = record.chosen_quote
        expired = quote is None or quote.expires_at <= self.clock()
        if not self.store.decide_approval(cid, approve=approve and not expired, expired=expired):
            return messages.ALREADY_DECIDED
        if approve and expired:
            outcome = "quote expired before approval"
        else:
            outcome = "approved" if approve else "declined"
        self.store.audit(
            user, "approval", outcome, consignment_id=cid, detail=quote.reference if quote else None
        )
        self.runner.submit("approval", {"cid": cid, "by": user, "outcome": outcome})
        if approve and not expired:
            self._advance_later(cid)
        return None

    def report(self, user: str, period: str) -> Message:
        """Spend since the start of `period`; the CSV goes to the requester's DM by a job."""
        since, label = report_period(period, self.clock(), self.settings.timezone)
        rows = self.store.spend(since)
        self.store.audit(user, "report", f"{period}: {sum(r['count'] for r in rows)} labels")
        self.runner.submit("report", {"user": user, "period": period})
        return report_blocks.spend_report(rows, label)

    def request_manifest(self, user: str, channel_id: str, response_url: str | None) -> None:
        self.store.audit(user, "manifest requested", "queued")
        self.runner.submit(
            "manifest",
            {"user": user, "channel": channel_id, "response_url": response_url},
            dedupe_key="manifest",
        )

    def tell(self, channel: str, user: str, text: str, response_url: str | None = None) -> None:
        """An ephemeral notice, sent by a worker so the listener returns at once."""
        self.runner.submit(
            "notify",
            {
                "kind": "ephemeral",
                "channel": channel,
                "user": user,
                "text": text,
                "response_url": response_url,
            },
        )

    # == jobs ===========================================================================
    def _advance_later(self, cid: int) -> None:
        self.runner.submit("advance", {"cid": cid}, dedupe_key=f"advance:{cid}")

    def _refresh_later(self, cid: int) -> None:
        self.runner.submit("refresh", {"cid": cid}, dedupe_key=f"refresh:{cid}")

    def resume_all(self) -> list[int]:
        """After a restart: every consignment left between submit and upload carries on."""
        pending = self.store.in_flight()
        for cid in pending:
            self._advance_later(cid)
        return pending

    def _locked(self, cid: int) -> AbstractContextManager[None]:
        return self.locks.hold(cid)

    def _job_advance(self, payload: dict[str, Any]) -> None:
        self.advance(int(payload["cid"]))

    def _advance_gave_up(self, payload: dict[str, Any], reason: str) -> None:
        """Slack kept failing (e.g. the upload): say so in the thread, with Try again."""
        cid = int(payload["cid"])
        with self._locked(cid):
            record = self.store.get(cid)
            if record is None or not record.step.in_flight:
                return
            problem = Problem(
                step=record.step,
                kind="slack",
                message=(
                    "Slack kept refusing the upload, so the label isn't in this thread yet. "
                    "It is saved: press Try again."
                    if record.step is Step.LABEL_SAVED
                    else "Slack kept failing while I worked on this. Press Try again."
                ),
            )
            self.store.set_step(cid, Step.FAILED, problem=problem)
            self.store.audit(BOT, "job", f"gave up: {reason}", consignment_id=cid)
            self._show(self.store.require(record.id))

    def _job_refresh(self, payload: dict[str, Any]) -> None:
        cid = int(payload["cid"])
        with self._locked(cid):
            record = self.store.get(cid)
            if record is not None:
                self._show(record)

    def advance(self, cid: int) -> None:
        """Run the flow from wherever this consignment is until it waits for a person."""
        with self._locked(cid):
            resumed = True
            while True:
                record = self.store.get(cid)
                if record is None or not record.step.in_flight:
                    return
                started = time.monotonic()
                step = record.step
                moved = self._step(record, resumed=resumed)
                # Only a stop needs a fresh look (its outcome and correlation id).
                after = record if moved else self.store.get(cid)
                problem = after.problem if after is not None and not moved else None
                log.info(
                    "step consignment=%s ref=%s step=%s outcome=%s duration_ms=%.0f correlation=%s",
                    cid,
                    (after.carrier_reference if after else None) or "-",
                    step.value,
                    (after.step.value if after else "gone") if not moved else "ok",
                    (time.monotonic() - started) * 1000,
                    (problem.correlation_id if problem else None) or "-",
                )
                if not moved:
                    return
                resumed = False

    def _step(self, c: ConsignmentRecord, *, resumed: bool) -> bool:
        """Do one step; True to carry on, False to stop (waiting, failed, or retry later)."""
        match c.step:
            case Step.NEW:
                return self._post_channel_message(c)
            case Step.CREATING:
                return self._create(c)
            case Step.CREATED:
                self.store.set_step(c.id, Step.QUOTING, expect=[Step.CREATED])
                self.slack.show_channel(self.store.require(c.id))
                return True
            case Step.QUOTING:
                return self._quote(c)
            case Step.CLAIMED:
                self.store.set_step(c.id, Step.ALLOCATING, expect=[Step.CLAIMED])
                c = self.store.require(c.id)
                self._show(c)
                return self._allocate(c)
            case Step.ALLOCATING:
                # Only reached on resume: the allocate call may have gone out. Look first.
                return self._look_after_allocate(c, cause=None)
            case Step.ALLOCATED:
                return self._fetch_documents(c)
            case Step.LABEL_SAVED:
                return self._upload(c)
        return False

    # -- steps ------------------------------------------------------------------------
    def _post_channel_message(self, c: ConsignmentRecord) -> bool:
        if c.message_ts is None:
            try:
                ts = self.slack.post_joining(c.channel_id, render.channel_message(c))
            except SlackProblem as exc:
                return self._slack_failed(c, exc, resume=Step.NEW)
            self.store.update_fields(c.id, message_ts=ts)
        self.store.set_step(c.id, Step.CREATING, expect=[Step.NEW])
        return True

    def _create(self, c: ConsignmentRecord) -> bool:
        try:
            # A lost reply here may leave an unallocated consignment at the carrier; creating
            # again costs nothing (no label is bought until allocate), so we simply retry.
            reference = self.carrier.create_consignment(c.request, self.settings.shipping_location)
        except CarrierError as exc:
            return self._carrier_failed(c, "create", exc, resume=Step.CREATING)
        self.store.set_step(c.id, Step.CREATED, expect=[Step.CREATING], carrier_reference=reference)
        self.store.audit(c.created_by, "create", "ok", consignment_id=c.id, detail=reference)
        return True

    def _quote(self, c: ConsignmentRecord) -> bool:
        assert c.carrier_reference
        try:
            quote_set = self.carrier.get_quotes(c.carrier_reference)
        except CarrierError as exc:
            return self._carrier_failed(c, "quotes", exc, resume=Step.CREATED)
        self.store.save_quotes(c.id, quote_set)
        self.store.audit(
            BOT,
            "quotes",
            f"{len(quote_set.quotes)} quotes",
            consignment_id=c.id,
            detail=quote_set.request_reference,
        )
        c = self.store.require(c.id)
        if not quote_set.quotes:
            reasons = "; ".join(f"{u.service_name}: {u.reason}" for u in quote_set.unqualified[:5])
            problem = Problem(
                step=Step.CREATED,
                kind="NoQuotes",
                retryable=False,
                message=(
                    "No carrier can take this parcel"
                    + (f" ({reasons})" if reasons else "")
                    + ". Check the weight, size and destination, then run `/ship` again."
                ),
            )
            self.store.set_step(c.id, Step.FAILED, expect=[Step.QUOTING], problem=problem)
            self._show(self.store.require(c.id))
            return False
        try:
            ts = self._put_quotes_message(c, render.quote_list(c))
        except SlackProblem as exc:
            return self._slack_failed(c, exc, resume=Step.CREATED)
        # The buttons are visible from here: a click may claim while we are still QUOTING
        # (the quotes are stored), so keep the message's ts first, then wait for a click.
        self.store.update_fields(c.id, quotes_ts=ts)
        if not self.store.set_step(c.id, Step.QUOTED, expect=[Step.QUOTING]):
            return True  # already claimed: carry on with the allocation
        self.slack.show_channel(self.store.require(c.id))
        return False  # now it waits for a click

    def _put_quotes_message(self, c: ConsignmentRecord, message: Message) -> str:
        """The quotes live in one thread message, edited in place on re-quote or claim."""
        assert c.message_ts
        if c.quotes_ts:
            self.slack.update(c.channel_id, c.quotes_ts, message)
            return c.quotes_ts
        return self.slack.post_joining(c.channel_id, message, thread_ts=c.message_ts)

    def _allocate(self, c: ConsignmentRecord) -> bool:
        quote = c.chosen_quote
        if quote is None:  # the claim names a quote we no longer hold: start over safely
            self.store.set_step(c.id, Step.CREATED, expect=[Step.ALLOCATING])
            return True
        try:
            allocation = self.carrier.allocate_with_quote(quote)
        except QuoteExpired as exc:
            return self._expired(c, exc)
        except CarrierError as exc:
            if exc.code == "QuoteExpired":
                return self._expired(c, exc)
            # Whatever the error, the allocate may have taken effect: look before anything.
            return self._look_after_allocate(c, cause=exc)
        self._allocated(c, allocation, via="allocate")
        return True

    def _expired(self, c: ConsignmentRecord, exc: CarrierError) -> bool:
        self.store.set_step(c.id, Step.EXPIRED, expect=[Step.ALLOCATING])
        self.store.audit(
            c.claimed_by or BOT,
            "allocate",
            "quote expired",
            consignment_id=c.id,
            correlation_id=exc.correlation_id,
        )
        self._show(self.store.require(c.id))
        return False

    def _look_after_allocate(self, c: ConsignmentRecord, cause: CarrierError | None) -> bool:
        assert c.carrier_reference
        try:
            status = self.carrier.get_consignment(c.carrier_reference)
        except CarrierError as exc:
            # We still don't know; Try again comes back here and looks again.
            return self._carrier_failed(c, "lookup", cause or exc, resume=Step.ALLOCATING)
        if status.tracking_numbers or status.state.value in _ALLOCATED_OR_LATER:
            allocation = Allocation(
                consignment_reference=status.reference,
                carrier_code=status.carrier_code
                or (c.chosen_quote.carrier_code if c.chosen_quote else ""),
                carrier_name=status.carrier_name
                or (c.chosen_quote.carrier_name if c.chosen_quote else ""),
                service_name=status.service_name
                or (c.chosen_quote.service_name if c.chosen_quote else ""),
                tracking_numbers=status.tracking_numbers,
            )
            self._allocated(c, allocation, via="lookup")
            return True
        error = cause or CarrierError("allocation not confirmed")
        self.store.audit(
            c.claimed_by or BOT,
            "allocate",
            f"failed: {type(error).__name__}",
            consignment_id=c.id,
            correlation_id=error.correlation_id,
        )
        # Not allocated: this claim is spent; Try again gets fresh quotes for a new click.
        problem = Problem(
            step=Step.CREATED,
            kind=type(error).__name__,
            message=messages.carrier_problem("allocate", error, nothing_bought=True),
            correlation_id=error.correlation_id,
        )
        self.store.set_step(c.id, Step.FAILED, problem=problem)
        self._show(self.store.require(c.id))
        return False

    def _allocated(self, c: ConsignmentRecord, allocation: Allocation, *, via: str) -> None:
        self.store.save_allocation(c.id, allocation, c.chosen_quote, c.claimed_by)
        self.store.audit(
            c.claimed_by or BOT,
            "allocate",
            f"ok ({via})",
            consignment_id=c.id,
            detail=", ".join(allocation.tracking_numbers),
        )
        self._show(self.store.require(c.id))

    def _fetch_documents(self, c: ConsignmentRecord) -> bool:
        assert c.carrier_reference
        try:
            label = self.carrier.get_label(c.carrier_reference, "PDF")
        except CarrierError as exc:
            return self._carrier_failed(c, "label", exc, resume=Step.ALLOCATED)
        documents = [label]
        if c.request.is_international:
            try:
                documents += self.carrier.get_customs_documents(c.carrier_reference)
            except CarrierError as exc:
                self.store.save_documents(c.id, documents)
                return self._carrier_failed(c, "customs", exc, resume=Step.ALLOCATED)
        self.store.save_documents(c.id, documents)
        self.store.set_step(c.id, Step.LABEL_SAVED, expect=[Step.ALLOCATED])
        self.store.audit(
            BOT,
            "documents",
            "saved",
            consignment_id=c.id,
            detail=", ".join(d.name for d in documents),
        )
        return True  # the upload follows at once; its outcome updates the channel message

    def _upload(self, c: ConsignmentRecord) -> bool:
        assert c.message_ts
        for doc in self.store.documents(c.id, pending_only=True):
            try:
                self.slack.upload_one(c.channel_id, c.message_ts, doc)
            except SlackProblem as exc:
                if (
                    exc.membership
                    and exc.error == "not_in_channel"
                    and self.slack.join(c.channel_id)
                ):
                    raise RetryLater("joined the channel; uploading again", delay=0) from exc
                if exc.membership:
                    return self._slack_failed(c, exc, resume=Step.LABEL_SAVED)
                # A passing Slack failure: the job runner tries again with backoff, and
                # after its last attempt the thread says so, with Try again.
                self.store.audit(
                    BOT, "upload", f"failed: {exc.error}", consignment_id=c.id, detail=doc.name
                )
                raise RetryLater(f"upload of {doc.name} failed: {exc.error}") from exc
            self.store.mark_uploaded(c.id, doc.name)
            self.store.audit(BOT, "upload", "ok", consignment_id=c.id, detail=doc.name)
        self.store.set_step(c.id, Step.UPLOADED, expect=[Step.LABEL_SAVED])
        self.slack.show_channel(self.store.require(c.id))
        return False

    # -- failures --------------------------------------------------------------------
    def _carrier_failed(
        self, c: ConsignmentRecord, step: str, exc: CarrierError, *, resume: Step
    ) -> bool:
        nothing_bought = step in ("create", "quotes")
        fields = messages.refused_fields(exc) if isinstance(exc, InvalidRequest) else []
        problem = Problem(
            step=resume,
            kind=type(exc).__name__,
            message=(
                messages.form_refused(exc)
                if fields and step == "create"
                else messages.carrier_problem(step, exc, nothing_bought=nothing_bought)
            ),
            correlation_id=exc.correlation_id,
            retryable=messages.retryable(exc) or step in ("label", "customs", "lookup"),
            fields=tuple(block for _, block in fields),
        )
        log.warning(
            "carrier failed consignment=%s step=%s error=%s status=%s correlation=%s",
            c.id,
            step,
            type(exc).__name__,
            exc.status,
            exc.correlation_id,
        )
        self.store.set_step(c.id, Step.FAILED, problem=problem)
        self.store.audit(
            c.claimed_by or c.created_by,
            step,
            f"failed: {type(exc).__name__}",
            consignment_id=c.id,
            correlation_id=exc.correlation_id,
            detail=exc.code,
        )
        self._show(self.store.require(c.id))
        return False

    def _slack_failed(self, c: ConsignmentRecord, exc: SlackProblem, *, resume: Step) -> bool:
        text = exc.message(c.channel_id)
        problem = Problem(step=resume, kind=f"slack:{exc.error}", message=text)
        self.store.set_step(c.id, Step.FAILED, problem=problem)
        self.store.audit(BOT, "slack", f"failed: {exc.error}", consignment_id=c.id)
        c = self.store.require(c.id)
        if exc.membership or c.message_ts is None:
            # We can't write in the channel: tell the agent through the command's
            # response_url, which works without membership.
            if c.response_url:
                self.slack.respond(c.response_url, render.problem(c))
        else:
            self._show(c)
        return False

    # -- showing state in Slack -------------------------------------------------------------
    def _show(self, c: ConsignmentRecord) -> None:
        """Bring the channel message and the thread in line with the stored step."""
        self.slack.show_channel(c)
        if c.message_ts is None:
            return
        try:
            if c.step is Step.AWAITING_APPROVAL and c.quotes_ts:
                self.slack.update(c.channel_id, c.quotes_ts, approval_blocks.awaiting(c))
            elif c.step in (Step.CLAIMED, Step.ALLOCATING) and c.quotes_ts:
                self.slack.update(c.channel_id, c.quotes_ts, render.claimed(c))
            elif c.step in (Step.ALLOCATED, Step.LABEL_SAVED, Step.UPLOADED) and c.quotes_ts:
                self.slack.update(c.channel_id, c.quotes_ts, render.allocated(c))
            elif c.step is Step.EXPIRED and c.quotes_ts:
                self.slack.update(c.channel_id, c.quotes_ts, render.quotes_expired(c))
            elif c.step is Step.FAILED:
                if c.quotes_ts and c.problem and c.problem.step is Step.CREATED:
                    # The old buttons must not stay clickable once the claim is spent.
                    self.slack.update(c.channel_id, c.quotes_ts, render.claimed_failed(c))
                self.slack.post(c.channel_id, render.problem(c), thread_ts=c.message_ts)
        except SlackProblem as exc:
            log.warning("could not update thread of consignment %s: %s", c.id, exc.error)

    # == approvals and reports ============================================================
    def _job_approval(self, payload: dict[str, Any]) -> None:
        """Ask the approvers in the thread, or record their decision there."""
        cid = int(payload["cid"])
        with self._locked(cid):
            record = self.store.get(cid)
            if record is None or record.message_ts is None:
                return
            approvers = self.permissions.users(Action.APPROVE)
            limit = self.settings.shipbot_approval_above or Decimal(0)
            try:
                if "outcome" not in payload and record.step is Step.AWAITING_APPROVAL:
                    if record.approval_ts is None:
                        ts = self.slack.post(
                            record.channel_id,
                            approval_blocks.request(record, approvers, limit),
                            thread_ts=record.message_ts,
                        )
                        self.store.update_fields(cid, approval_ts=ts)
                elif "outcome" in payload and record.approval_ts:
                    self.slack.update(
                        record.channel_id,
                        record.approval_ts,
                        approval_blocks.decided(record, payload["by"], payload["outcome"]),
                    )
                    if payload["outcome"] == "declined" and record.quotes_ts:
                        self.slack.update(
                            record.channel_id, record.quotes_ts, render.quote_list(record)
                        )
            except SlackProblem as exc:
                raise RetryLater(exc.error) from exc
            self._show(self.store.require(record.id))

    def _job_report(self, payload: dict[str, Any]) -> None:
        """The spend report as CSV, in the requester's DM (Slack needs a D… conversation)."""
        user, period = payload["user"], payload["period"]
        since, label = report_period(period, self.clock(), self.settings.timezone)
        rows = self.store.spend(since)
        day = self.clock().astimezone(self.settings.timezone).strftime("%Y-%m-%d")
        document = Document(
            kind=DocumentKind.REPORT,
            name=f"shipbot-spend-{period}-{day}.csv",
            content_type="text/csv",
            data=spend_csv(rows),
        )
        try:
            dm = self.slack.open_dm(user)
            self.slack.upload_one(dm, None, document)
        except SlackProblem as exc:
            raise RetryLater(exc.error) from exc
        self.store.audit(BOT, "report", f"CSV sent ({label})", detail=document.name)

    # == notices and manifest ============================================================
    def _job_notify(self, payload: dict[str, Any]) -> None:
        message = Message(text=payload["text"], blocks=manifest_blocks.text_blocks(payload["text"]))
        try:
            if payload["kind"] == "ephemeral":
                self.slack.ephemeral(
                    payload["channel"],
                    payload["user"],
                    message,
                    response_url=payload.get("response_url"),
                )
            else:
                self.slack.post_joining(
                    payload["channel"], message, thread_ts=payload.get("thread_ts")
                )
        except SlackProblem as exc:
            if exc.membership:
                log.warning("notice to %s dropped: %s", payload["channel"], exc.error)
                return
            raise RetryLater(exc.error) from exc

    def _paced_delay(self, channel: str) -> float:
        """chat.postMessage allows about one message a second per channel: space them out."""
        now = time.time()
        with self._pace_guard:
            at = max(now, self._next_post.get(channel, now))
            self._next_post[channel] = at + self.post_interval
        return at - now

    def _job_manifest(self, payload: dict[str, Any]) -> None:
        user, channel = payload["user"], payload["channel"]
        response_url = payload.get("response_url")
        waiting = self.store.allocated_for_manifest()
        if not waiting:
            self.slack.ephemeral(
                channel, user, Message(messages.NOTHING_TO_MANIFEST), response_url=response_url
            )
            self.store.audit(user, "manifest", "nothing to manifest")
            return
        try:
            result = self.carrier.manifest_from_query(
                [self.settings.shipping_location], states=("Allocated",)
            )
        except CarrierError as exc:
            self.store.audit(
                user, "manifest", f"failed: {type(exc).__name__}", correlation_id=exc.correlation_id
            )
            self.slack.ephemeral(
                channel,
                user,
                manifest_blocks.manifest_failed(
                    messages.carrier_problem("manifest", exc), exc.correlation_id
                ),
                response_url=response_url,
            )
            return
        failed = set(result.failed)
        queued = [c for c in waiting if c.carrier_reference not in failed]
        failed_records = [c for c in waiting if c.carrier_reference in failed]
        self.store.record_manifest(
            requested_by=user,
            channel_id=channel,
            message=result.message,
            queued=[c.id for c in queued],
            failed=sorted(failed),
        )
        by_carrier = Counter(
            (c.allocation.carrier_name if c.allocation else "unknown") for c in queued
        )
        self.store.audit(
            user, "manifest", f"queued {len(queued)}, failed {len(failed)}", detail=result.message
        )
        summary = manifest_blocks.summary(user, by_carrier, failed_records, sorted(failed))
        try:
            self.slack.post_joining(channel, summary)
        except SlackProblem as exc:
            self.slack.ephemeral(channel, user, summary, response_url=response_url)
            log.warning("manifest summary not posted in channel: %s", exc.error)
        for c in queued:
            fresh = self.store.get(c.id)
            if fresh is not None:
                self.slack.show_channel(fresh)
            if c.message_ts:
                self.runner.submit(
                    "notify",
                    {
                        "kind": "thread",
                        "channel": c.channel_id,
                        "thread_ts": c.message_ts,
                        "text": manifest_blocks.thread_line(user),
                    },
                    delay=self._paced_delay(c.channel_id),
                )


_ALLOCATED_OR_LATER = frozenset(
    {
        "Allocated",
        "ReadyToShip",
        "Manifesting",
        "Manifested",
        "ManifestFailed",
        "Dispatched",
        "Collected",
        "InTransit",
        "OutForDelivery",
        "Delivered",
    }
)
