"""One typed payload per job kind: what a feature queues and its job function gets back.

A payload is stored as its JSON (`jobs.payload_json`) under its `kind`; reading a row back
gives the same model, so a job function never digs in a dict and a typo in a field is a
mypy error, not a KeyError on a worker. The JSON keeps the names the rows had as dicts
(`cid`, `user`, ...), so rows queued before a restart still read.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

from pydantic import BaseModel, ConfigDict, model_validator

from bot.models import Recipient


class JobPayload(BaseModel):
    """A job's payload; each subclass with a `kind` is that kind's one model."""

    model_config = ConfigDict(frozen=True)

    kind: ClassVar[str]
    # kind -> its model, filled as subclasses are defined (tests add their own kinds).
    KINDS: ClassVar[dict[str, type[JobPayload]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if isinstance(kind, str):
            if kind in JobPayload.KINDS:
                raise TypeError(f"job kind {kind!r} has a model already")
            JobPayload.KINDS[kind] = cls

    @classmethod
    def of_kind(cls, kind: str, payload_json: str) -> JobPayload:
        """The stored JSON of a `kind` row as its model (KeyError: a kind nobody defines)."""
        return cls.KINDS[kind].model_validate_json(payload_json)


class AskedBy(TypedDict):
    """The asker's fields of a payload, as `bot.core.Asker.asked()` gives them."""

    user: str
    channel: str
    response_url: str | None


class Asked(JobPayload):
    """Someone asked for this: where their private answer goes (`bot.desk.access.asker_of`)."""

    user: str
    channel: str = ""
    response_url: str | None = None


class ConsignmentJob(JobPayload):
    """Work on one of our consignments (the store's sweep looks rows up by `cid`)."""

    cid: int


class AnswerJob(Asked):
    """A private answer composed on a listener, sent from a worker."""

    kind = "answer"
    text: str
    blocks: list[dict[str, Any]]


class AdvanceJob(ConsignmentJob):
    kind = "advance"


class RefreshJob(ConsignmentJob):
    """Bring a consignment's channel message and thread in line with its step."""

    kind = "refresh"


class ApprovalJob(ConsignmentJob):
    """Ask the approvers (no outcome yet), or say their decision (`by`, `outcome`)."""

    kind = "approval"
    by: str | None = None
    outcome: str | None = None

    @model_validator(mode="after")
    def _a_decision_names_its_approver(self) -> ApprovalJob:
        if (self.by is None) != (self.outcome is None):
            raise ValueError("a decision has both `by` and `outcome`")
        return self


class CancelJob(ConsignmentJob, Asked):
    kind = "op_cancel"


class LabelJob(ConsignmentJob, Asked):
    kind = "op_label"
    # As the command gave it; the job sends ZPL for "ZPL" and PDF for anything else.
    format: str = "PDF"


class StatusJob(ConsignmentJob, Asked):
    kind = "op_status"


class HandledJob(ConsignmentJob, Asked):
    """Someone dealt with a delivery exception."""

    kind = "delivery_handled"


class HomeJob(JobPayload):
    kind = "op_home"
    user: str


class ManifestJob(Asked):
    kind = "manifest"


class ManifestLineJob(JobPayload):
    """A manifest's line in a consignment's thread. Nothing queues it any more; kept so
    that rows an older version left are still sent after an upgrade."""

    kind = "manifest_line"
    user: str
    channel: str
    thread_ts: str


class ReportJob(JobPayload):
    kind = "report"
    user: str
    period: str


class TakeOverJob(Asked):
    """Take over a consignment made elsewhere (by its Sorted PRO reference)."""

    kind = "take_over"
    reference: str


class LookupJob(Asked):
    """Look up at Sorted PRO what the store doesn't know."""

    kind = "found_lookup"
    text: str


class ActJob(Asked):
    """A button on a found consignment's card."""

    kind = "found_act"
    reference: str
    action: str


class FixJob(Asked):
    """Fix the address of a consignment (taken over first if need be)."""

    kind = "found_fix"
    reference: str
    recipient: Recipient
