"""What a running bot owns, in one typed object, and the one way to refuse or answer privately.

Listeners receive it as their `shipbot` parameter (Bolt passes context keys by name); the
feature modules (`bot/desk/flow.py`, `bot/desk/cancel.py`, ...) take it as their first argument.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from blocks import Message, section
from bot.carrier.client import CarrierClient
from bot.locks import ConsignmentLocks
from bot.permissions import Action, Permissions
from bot.settings import Settings
from bot.slack.outbox import Outbox
from bot.slack.slackio import SlackOut, SlackProblem
from bot.store.job_payloads import AnswerJob, Asked, AskedBy
from bot.store.jobs import JobRunner
from bot.store.writes import Store

log = logging.getLogger("shipbot.core")

BOT = "shipbot"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Refused(Exception):
    """Nothing changed, and the person who asked is told why: one private sentence.

    Raised by entry functions; the app's error handler turns it into the answer (the
    command's ack, or a private message after a click), so no listener formats refusals.
    """

    def __init__(self, text: str, reason: str = "refused", *, field: str | None = None) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason
        # A form's refusal: the input block the error belongs on (else the page's first).
        self.field = field


@dataclass(frozen=True)
class Asker:
    """Who to answer privately, and through what (a response_url works outside channels)."""

    user: str
    channel: str = ""
    response_url: str | None = None

    @classmethod
    def of(cls, payload: Asked) -> Asker:
        """Who asked, as a job's payload carries it."""
        return cls(payload.user, payload.channel, payload.response_url)

    def asked(self) -> AskedBy:
        """This asker as a job payload's fields: `CancelJob(cid=..., **asker.asked())`."""
        return {"user": self.user, "channel": self.channel, "response_url": self.response_url}


@dataclass
class Shipbot:
    settings: Settings
    store: Store
    carrier: CarrierClient
    slack: SlackOut
    jobs: JobRunner
    # Slack edits and thread lines as rows (paced, coalesced, delivered after a restart).
    outbox: Outbox
    locks: ConsignmentLocks = field(default_factory=ConsignmentLocks)
    clock: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        self.permissions = Permissions(self.settings)
        self.jobs.register(AnswerJob, self._job_answer)

    def now(self) -> datetime:
        return self.clock()

    def locked(self, cid: int) -> AbstractContextManager[None]:
        """One consignment at a time in this process: flow, cancel, manifest, relabel."""
        return self.locks.hold(cid)

    def permit(self, action: Action, user: str, cid: int | None = None) -> None:
        """The role check, before any carrier call or modal; a refusal is audited."""
        if self.permissions.allows(action, user):
            return
        self.store.audit(user, action.value, "refused (not allowed)", consignment_id=cid)
        raise Refused(self.permissions.refusal(action), "not allowed")

    # -- private answers ----------------------------------------------------------------
    def answer(self, asker: Asker, message: Message | str) -> None:
        """From a listener: a worker sends it, so the ack never waits on Slack."""
        if isinstance(message, str):
            message = Message(text=message, blocks=[section(message)])
        self.jobs.submit(AnswerJob(text=message.text, blocks=message.blocks, **asker.asked()))

    def send(self, asker: Asker, message: Message | str) -> None:
        """From a job: the response_url, else chat.postEphemeral, else a DM."""
        if isinstance(message, str):
            message = Message(text=message, blocks=[section(message)])
        try:
            self.slack.ephemeral(
                asker.channel, asker.user, message, response_url=asker.response_url
            )
        except SlackProblem as exc:
            log.warning("an answer to %s was dropped: %s", asker.user, exc.error)

    def _job_answer(self, payload: AnswerJob) -> None:
        self.send(Asker.of(payload), Message(text=payload.text, blocks=payload.blocks))
