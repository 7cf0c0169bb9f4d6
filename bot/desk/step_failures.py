"""How a step that failed says so: the move to FAILED, the audit row and the thread's words.

Shared by every step module; a carrier error and a Slack error are said differently because
a retry can't fix a revoked token.
"""

from __future__ import annotations

import logging

from blocks import consignment as render
from bot.carrier.errors import CarrierError, InvalidRequest
from bot.carrier.fields import refused_fields
from bot.core import BOT, Shipbot
from bot.desk import messages
from bot.desk.early_post import end_early_post
from bot.desk.show import show
from bot.models import ConsignmentRecord, Problem, Step
from bot.slack.slackio import SlackProblem
from bot.store.jobs import RetryLater

log = logging.getLogger("shipbot.flow")


def audit_carrier(
    bot: Shipbot,
    actor: str,
    action: str,
    outcome: str,
    cid: int,
    exc: CarrierError,
    detail: str | None = None,
) -> None:
    """An audit row for a carrier reply, with its correlation id (what support asks for)."""
    bot.store.audit(
        actor, action, outcome, consignment_id=cid, correlation_id=exc.correlation_id, detail=detail
    )


def stop_failed(bot: Shipbot, cid: int, at: Step, problem: Problem) -> bool:
    """Move at → FAILED and show it (unless it moved on meanwhile); the step stops: False."""
    if bot.store.transition(cid, {at}, Step.FAILED, problem=problem):
        show(bot, bot.store.require(cid))
    return False


# -- failures ----------------------------------------------------------------------------
def carrier_failed(
    bot: Shipbot, c: ConsignmentRecord, step: str, exc: CarrierError, *, at: Step, resume: Step
) -> bool:
    """`at`: the step the failed call ran in (the move is at → FAILED); `resume`: Try again's."""
    end_early_post(c.id)
    c = bot.store.require(c.id)  # a slow carrier may have had the channel message posted
    nothing_bought = step in ("create", "quotes")
    fields = refused_fields(exc) if isinstance(exc, InvalidRequest) else []
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
    bot.store.transition(c.id, {at}, Step.FAILED, problem=problem)
    actor = c.claimed_by or c.created_by
    audit_carrier(bot, actor, step, f"failed: {type(exc).__name__}", c.id, exc, exc.code)
    show(bot, bot.store.require(c.id))
    return False


def slack_failed(
    bot: Shipbot, c: ConsignmentRecord, exc: SlackProblem, *, at: Step, resume: Step
) -> bool:
    """Said as what it is: a retry can't fix a revoked token or an archived channel."""
    end_early_post(c.id)
    if exc.ratelimited:
        # Slack said wait: the job runner re-queues this step after Retry-After, no sleeping.
        raise RetryLater("Slack said wait", delay=exc.retry_after, counts=False) from exc
    problem = Problem(
        step=resume,
        kind=f"slack:{exc.error}",
        message=exc.message(c.channel_id),
        retryable=not exc.fatal or exc.error == "not_in_channel",
    )
    bot.store.transition(c.id, {at}, Step.FAILED, problem=problem)
    bot.store.audit(BOT, "slack", f"failed: {exc.error}", consignment_id=c.id)
    c = bot.store.require(c.id)
    if exc.membership or exc.fatal or c.message_ts is None:
        # We can't write in the channel: tell the agent through the command's
        # response_url, which works without membership.
        if c.response_url:
            bot.slack.respond(c.response_url, render.problem(c))
    else:
        show(bot, c)
    return False
