"""Opening (and updating) a modal right after the ack, on small pools of our own.

A trigger_id lasts 3 s from when Slack issued it: the listener acks at once and a thread
from the openers' pool calls views.open within milliseconds, so the ack never waits on Slack.
The openers do nothing else: a views.update (which can wait its turn) has its own pool, so a
trigger never queues behind one. Both calls go through the one paced, counted sender.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from blocks.form_fields import View
from bot.core import Asker, Shipbot
from bot.slack.slackio import SlackProblem

log = logging.getLogger("shipbot.modal")

_OPENERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="shipbot-modal")
_UPDATERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="shipbot-modal-update")
# Past this much queueing on our side views.open would only fail, so say so at once instead.
TRIGGER_BUDGET = 2.5
_EXPIRED = ("expired_trigger_id", "invalid_trigger_id")
BUSY = "⚠️ Slack is busy right now and couldn't open the form. Try again."


def open_soon(bot: Shipbot, trigger_id: str, view: View, asker: Asker) -> None:
    _OPENERS.submit(_open, bot, trigger_id, view, asker, time.monotonic())


def _open(bot: Shipbot, trigger_id: str, view: View, asker: Asker, received: float) -> None:
    waited = time.monotonic() - received
    if waited > TRIGGER_BUDGET:
        log.warning("views.open skipped: the trigger waited %.1f s", waited)
        bot.answer(asker, "⚠️ Slack's form timer ran out while I was busy. Try again.")
        return
    try:
        bot.slack.open_view(trigger_id, view, deadline=received + TRIGGER_BUDGET)
    except SlackProblem as exc:
        if exc.error == "exchanged_trigger_id":
            # Only we hold this trigger, so it was exchanged by our own earlier try whose reply
            # was lost (the SDK's retry after a dropped connection): the form is open. Telling
            # the agent it failed would be false.
            log.info("views.open: the trigger was already exchanged by our earlier try")
            return
        log.warning("views.open failed: %s", exc.error)
        if exc.ratelimited:
            # Slack's own 429, with a Retry-After past the trigger's life.
            bot.answer(asker, BUSY)
        elif exc.error.startswith("unreachable"):
            bot.answer(asker, "⚠️ Slack didn't answer when opening the form. Try again in a moment.")
        elif exc.error in _EXPIRED:
            bot.answer(asker, "⚠️ Slack took too long to open the form. Try again.")
        else:
            bot.answer(asker, f"⚠️ Slack didn't open the form ({exc.error}). Try again in a moment.")


def update_soon(bot: Shipbot, view_id: str, view_hash: str | None, view: View) -> None:
    """views.update off the listener: the ack (the select's block_actions) never waits on Slack."""
    _UPDATERS.submit(_update, bot, view_id, view_hash, view)


def _update(bot: Shipbot, view_id: str, view_hash: str | None, view: View) -> None:
    try:
        bot.slack.update_view(view_id, view, view_hash=view_hash)
    except SlackProblem as exc:
        if exc.error == "hash_conflict":
            # The view changed meanwhile (another preset chosen): the newer one stays.
            log.info("views.update skipped: the view changed meanwhile (hash_conflict)")
        else:
            log.warning("views.update failed: %s", exc.error)
