"""While a slow create or quote runs: the channel message posted early as "⏳ Creating…".

Kept apart from the steps because the quote step and the failure paths both end it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core import Shipbot
from bot.desk.show import SLOW, put_channel_message
from bot.models import STILL_QUOTING
from bot.slack.slackio import SlackProblem

log = logging.getLogger("shipbot.flow")


# -- "working on it" while a slow create or quote runs -----------------------------------------
class _EarlyPost:
    """The channel message is normally posted with the quotes (one post, no edit). When the
    carrier is slow, agents would see nothing: after `SLOW` seconds it is posted early as
    "⏳ Creating…", and the quote step then edits it instead of posting."""

    def __init__(self, bot: Shipbot, cid: int) -> None:
        self.bot = bot
        self.cid = cid
        self.lock = threading.Lock()
        self.live = True
        self.timer = threading.Timer(SLOW, self.fire)
        self.timer.daemon = True

    def fire(self) -> None:
        with self.lock:
            if not self.live:
                return
            c = self.bot.store.get(self.cid)
            if c is None or c.message_ts or c.step not in STILL_QUOTING:
                return
            try:
                put_channel_message(self.bot, c)
            except SlackProblem as exc:  # the quote step posts (and reports) it anyway
                log.info("early channel message of %s not posted: %s", self.cid, exc.error)

    def end(self) -> None:
        """No early post after this; one under way is waited for (its ts is then stored)."""
        self.timer.cancel()
        with self.lock:
            self.live = False


_EARLY: dict[int, _EarlyPost] = {}


@contextmanager
def working_notice(bot: Shipbot, cid: int) -> Iterator[None]:
    c = bot.store.get(cid)
    if c is None or c.message_ts or c.step not in STILL_QUOTING:
        yield
        return
    early = _EARLY[cid] = _EarlyPost(bot, cid)
    early.timer.start()
    try:
        yield
    finally:
        early.end()
        _EARLY.pop(cid, None)


def end_early_post(cid: int) -> None:
    early = _EARLY.get(cid)
    if early is not None:
        early.end()
