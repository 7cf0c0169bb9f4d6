"""Approval above SHIPBOT_APPROVAL_ABOVE: a dear quote waits for an approver's decision.

The claim is held as AWAITING_APPROVAL; exactly one decision counts (a guarded transition),
and nothing is bought until an approver presses Approve.
"""

from __future__ import annotations

from decimal import Decimal

from blocks import approval as approval_blocks
from blocks import consignment as render
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.desk.access import clicked_consignment
from bot.desk.advance import advance_later
from bot.desk.show import show, shown
from bot.models import Step
from bot.permissions import Action
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import ApprovalJob
from bot.store.jobs import RetryLater


def ask_later(bot: Shipbot, cid: int) -> None:
    """Mention the approvers in the thread (from a worker)."""
    bot.jobs.submit(ApprovalJob(cid=cid), dedupe_key=f"approval:{cid}")


def decide(bot: Shipbot, cid: int, asker: Asker, *, approve: bool) -> None:
    """An approver's click: exactly one decision counts (from the consignment's channel)."""
    user = asker.user
    bot.permit(Action.APPROVE, user, cid)
    record = clicked_consignment(bot, cid, asker)
    quote = record.chosen_quote
    expired = quote is None or quote.expires_at <= bot.now()
    released = Step.EXPIRED if expired else Step.QUOTED
    to = Step.CLAIMED if approve and not expired else released
    if not bot.store.decide_approval(cid, to):
        raise Refused(messages.ALREADY_DECIDED, "already decided")
    if approve and expired:
        outcome = "quote expired before approval"
    else:
        outcome = "approved" if approve else "declined"
    bot.store.audit(
        user, "approval", outcome, consignment_id=cid, detail=quote.reference if quote else None
    )
    bot.jobs.submit(ApprovalJob(cid=cid, by=user, outcome=outcome))
    if to is Step.CLAIMED:
        advance_later(bot, cid)


def _job_approval(bot: Shipbot, payload: ApprovalJob) -> None:
    """Ask the approvers in the thread, or record their decision there."""
    cid = payload.cid
    with bot.locked(cid):
        record = bot.store.get(cid)
        if record is None or record.message_ts is None:
            return
        approvers = bot.permissions.users(Action.APPROVE)
        limit = bot.settings.shipbot_approval_above or Decimal(0)
        try:
            by, outcome = payload.by, payload.outcome
            if outcome is None and record.step is Step.AWAITING_APPROVAL:
                if record.approval_ts is None:
                    ts = bot.slack.post(
                        record.channel_id,
                        approval_blocks.request(record, approvers, limit),
                        thread_ts=record.thread_ts,
                    )
                    bot.store.update_fields(cid, approval_ts=ts)
            elif by is not None and outcome is not None and record.approval_ts:
                bot.slack.update(
                    record.channel_id,
                    record.approval_ts,
                    approval_blocks.decided(record, by, outcome),
                )
                if outcome == "declined" and record.quotes_ts:
                    bot.slack.update(
                        record.channel_id, record.quotes_ts, shown(bot, render.quote_list(record))
                    )
        except SlackProblem as exc:
            raise RetryLater(exc.error) from exc
        show(bot, bot.store.require(record.id))


def register(bot: Shipbot) -> None:
    bot.jobs.register(ApprovalJob, lambda payload: _job_approval(bot, payload))
