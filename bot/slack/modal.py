"""Opening (and updating) a modal right after the ack, on a small pool of our own.

A trigger_id lasts 3 s from when Slack issued it: the listener acks at once and a thread
from this pool calls views.open within milliseconds, so the ack never waits on Slack.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from slack_sdk.errors import SlackApiError, SlackClientError

from blocks.form_fields import View
from bot.core import Asker, Shipbot

log = logging.getLogger("shipbot.modal")

_OPENERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="shipbot-modal")
# Past this much queueing on our side views.open would only fail, so say so at once instead.
TRIGGER_BUDGET = 2.5
_EXPIRED = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")


def open_soon(bot: Shipbot, trigger_id: str, view: View, asker: Asker) -> None:
    _OPENERS.submit(_open, bot, trigger_id, view, asker, time.monotonic())


def _open(bot: Shipbot, trigger_id: str, view: View, asker: Asker, received: float) -> None:
    waited = time.monotonic() - received
    if waited > TRIGGER_BUDGET:
        log.warning("views.open skipped: the trigger waited %.1f s", waited)
        bot.answer(asker, "⚠️ Slack's form timer ran out while I was busy. Try again.")
        return
    # views.open is Tier 4: wait our turn, but only while the trigger still lives.
    turn = bot.slack.pacer.take("views.open", max_wait=max(0.0, TRIGGER_BUDGET - waited))
    if turn is None:
        log.warning("views.open skipped: Slack's limit leaves no slot before the trigger expires")
        bot.answer(asker, "⚠️ Slack is busy right now and couldn't open the form. Try again.")
        return
    if turn > 0:
        time.sleep(turn)
    try:
        bot.slack.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("views.open failed: %s", error)
        if error in _EXPIRED:
            bot.answer(asker, "⚠️ Slack took too long to open the form. Try again.")
        else:
            bot.answer(asker, f"⚠️ Slack didn't open the form ({error}). Try again in a moment.")
    except (SlackClientError, OSError) as exc:
        log.warning("views.open failed: %s", type(exc).__name__)
        bot.answer(asker, "⚠️ Slack didn't answer when opening the form. Try again in a moment.")


def update_soon(bot: Shipbot, view_id: str, view_hash: str | None, view: View) -> None:
    """views.update off the listener: the ack (the select's block_actions) never waits on Slack."""
    _OPENERS.submit(_update, bot, view_id, view_hash, view)


def _update(bot: Shipbot, view_id: str, view_hash: str | None, view: View) -> None:
    try:
        if view_hash:
            bot.slack.client.views_update(view_id=view_id, hash=view_hash, view=view)
        else:
            bot.slack.client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "hash_conflict":
            # The view changed meanwhile (another preset chosen): the newer one stays.
            log.info("views.update skipped: the view changed meanwhile (hash_conflict)")
        else:
            log.warning("views.update failed: %s", error)
    except (SlackClientError, OSError) as exc:
        log.warning("views.update failed: %s", type(exc).__name__)
