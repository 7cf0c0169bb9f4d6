"""The sweep: no consignment stays in a step with nothing behind it.

A job can end without moving its consignment on: its give-up handler failed (the database
was still locked), or a bug stopped it. Every SHIPBOT_SWEEP_EVERY seconds, and once at start,
the sweep looks for consignments in a step that is owed work (the flow's in-flight steps, a
manifest's hold) that no queued or running job names, and hands them back to the job that
owns that step: the flow resumes (and its give-up handler fails it with Try again if it
can't go on); a manifest hold is settled by asking the carrier.
"""

from __future__ import annotations

import logging
import threading

from bot.core import BOT, Shipbot
from bot.desk import advance, manifest
from bot.models import IN_FLIGHT, MANIFEST_HOLD
from bot.store.job_payloads import AdvanceJob, ManifestJob

log = logging.getLogger("shipbot.sweep")

# A step must have stood still this long: a listener queues its job just after its move.
SETTLED_FOR = 2.0


def sweep(bot: Shipbot) -> list[int]:
    """Resume what nobody is working on; returns the consignments handed back."""
    stranded = bot.store.unattended(IN_FLIGHT, AdvanceJob.kind, settled_for=SETTLED_FOR)
    for cid in stranded:
        log.warning("consignment %s was in flight with no job behind it: resuming", cid)
        bot.store.audit(BOT, "sweep", "resumed (no job behind it)", consignment_id=cid)
        advance.advance_later(bot, cid)
    # The manifest job names no consignment: a hold is stranded when no manifest job is left.
    held = bot.store.unattended(MANIFEST_HOLD, ManifestJob.kind, settled_for=SETTLED_FOR)
    if held and not bot.jobs.pending_for(ManifestJob.kind):
        log.warning("manifest holds %s with no manifest job: asking the carrier", held)
        manifest.resume_held(bot)
        stranded += held
    return stranded


class Sweeper:
    """Runs `sweep` every `every` seconds on its own thread until stopped."""

    def __init__(self, bot: Shipbot, every: float) -> None:
        self._bot = bot
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shipbot-sweep", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                sweep(self._bot)
            except Exception:  # the database may still be locked: the next round tries again
                log.exception("sweep failed; trying again in %.0f s", self._every)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
