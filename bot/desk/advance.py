"""The Quotes flow's engine: a resumable state machine, one function per step.

`advance` runs on a job worker from wherever a consignment stands until it waits for a
person. Each step is recorded (a guarded transition) before the next carrier call, so a
restart continues where a dead process stopped, and one claim leads to at most one
allocate call. Nothing here says "Nothing was bought" while an allocate could still land.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from bot.core import BOT, Shipbot
from bot.desk import messages
from bot.desk.booking import allocate, fetch_documents, resume_allocating, upload
from bot.desk.early_post import working_notice
from bot.desk.quoting import create, post_channel_message, quote, start_quoting
from bot.desk.rebooking import release, requote, update_address
from bot.desk.show import show
from bot.models import IN_FLIGHT, Problem, Step
from bot.store.job_payloads import AdvanceJob
from bot.store.jobs import RetryLater

log = logging.getLogger("shipbot.flow")


def advance_later(bot: Shipbot, cid: int) -> None:
    bot.jobs.submit(AdvanceJob(cid=cid), dedupe_key=f"advance:{cid}")


def resume(bot: Shipbot, pending: list[int]) -> None:
    """After a restart: every consignment left between submit and upload carries on."""
    for cid in pending:
        advance_later(bot, cid)


def advance(bot: Shipbot, cid: int) -> None:
    """Run the flow from wherever this consignment is until it waits for a person."""
    with bot.locked(cid), working_notice(bot, cid):
        while True:
            record = bot.store.get(cid)
            if record is None or not record.step.in_flight:
                return
            started = time.monotonic()
            step = record.step
            moved = _STEPS[step](bot, record)
            # Only a stop needs a fresh look (its outcome and correlation id).
            after = record if moved else bot.store.get(cid)
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


_STEPS = {
    Step.NEW: post_channel_message,
    Step.CREATING: create,
    Step.CREATED: start_quoting,
    Step.QUOTING: quote,
    Step.CLAIMED: allocate,
    Step.ALLOCATING: resume_allocating,
    Step.ALLOCATED: fetch_documents,
    Step.LABEL_SAVED: upload,
    Step.REQUOTING: requote,
    Step.RELEASING: release,
    Step.UPDATING: update_address,
}
assert set(_STEPS) == IN_FLIGHT, "every step the runner owes work to has its function"


def gave_up(bot: Shipbot, payload: AdvanceJob, cause: Exception) -> None:
    """The step kept failing (Slack, a locked database, a bug): the thread says what
    happened and offers Try again, which resumes from the very same step."""
    cid = payload.cid
    with bot.locked(cid):
        record = bot.store.get(cid)
        if record is None or not record.step.in_flight:
            return
        problem = Problem(
            step=record.step,
            kind="slack" if isinstance(cause, RetryLater) else type(cause).__name__,
            message=_gave_up_message(record.step, cause),
        )
        # The step just read under the lock, in flight (checked above): its row to FAILED.
        bot.store.transition(cid, {record.step} & IN_FLIGHT, Step.FAILED, problem=problem)
        bot.store.audit(
            BOT, "job", f"gave up: {type(cause).__name__}: {cause}"[:300], consignment_id=cid
        )
        show(bot, bot.store.require(record.id))


def _gave_up_message(step: Step, cause: Exception) -> str:
    if isinstance(cause, RetryLater):
        if step is Step.LABEL_SAVED:
            return (
                "Slack kept refusing the upload, so the label isn't in this thread yet. "
                "It is saved: press Try again."
            )
        return "Slack kept failing while I worked on this. Press Try again."
    if isinstance(cause, sqlite3.OperationalError):
        what = messages.DATABASE_BUSY
    else:
        what = messages.UNEXPECTED_ERROR.format(kind=type(cause).__name__)
    return f"{what} {messages.RESUME_FROM.get(step, messages.RESUME_ANYWHERE)}"


def register(bot: Shipbot) -> None:
    bot.jobs.register(
        AdvanceJob,
        lambda payload: advance(bot, payload.cid),
        on_give_up=lambda payload, reason: gave_up(bot, payload, reason),
    )
