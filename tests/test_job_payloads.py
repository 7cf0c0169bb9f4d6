"""Every job kind has one typed payload, and it comes back from the store as it went in."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import job_payloads as jp
from bot.store.jobs import JobQueue
from bot.store.writes import Store
from tests.factories import shipment_request

ASKED = jp.AskedBy(user="U1", channel="C1", response_url="https://hooks.example/r")

EXAMPLES: list[jp.JobPayload] = [
    jp.AnswerJob(text="Done", blocks=[{"type": "section"}], **ASKED),
    jp.AdvanceJob(cid=1),
    jp.RefreshJob(cid=2),
    jp.ApprovalJob(cid=3),
    jp.ApprovalJob(cid=3, by="U2", outcome="declined"),
    jp.CancelJob(cid=4, **ASKED),
    jp.LabelJob(cid=5, format="ZPL", **ASKED),
    jp.StatusJob(cid=6, **ASKED),
    jp.HandledJob(cid=7, **ASKED),
    jp.HomeJob(user="U3"),
    jp.ManifestJob(**ASKED),
    jp.ManifestLineJob(user="U4", channel="C2", thread_ts="1.2"),
    jp.ReportJob(user="U5", period="week"),
    jp.TakeOverJob(reference="EC-1", **ASKED),
    jp.LookupJob(text="1182", **ASKED),
    jp.ActJob(reference="EC-2", action="take_over", **ASKED),
    jp.FixJob(reference="EC-3", recipient=shipment_request().recipient, **ASKED),
]


def _bot_kinds() -> set[str]:
    return {model.kind for model in jp.JobPayload.KINDS.values() if model.__module__ == jp.__name__}


def test_the_examples_cover_every_kind() -> None:
    assert {p.kind for p in EXAMPLES} == _bot_kinds()


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: f"{p.kind}")
def test_a_payload_of_each_kind_round_trips_through_the_store(
    tmp_path: Path, payload: jp.JobPayload
) -> None:
    jobs = JobQueue(Store(tmp_path / "s.db").database, owner="test")
    job_id = jobs.add(payload, run_after=0, dedupe_key=None)
    assert job_id is not None
    job = jobs.take(job_id)
    assert job is not None
    assert job.kind == payload.kind
    assert type(job.payload) is type(payload) and job.payload == payload


def test_a_row_no_model_reads_is_failed_once_not_taken_again(tmp_path: Path) -> None:
    """A row an older version left with a field gone (or a kind nobody defines any more)."""
    database = Store(tmp_path / "s.db").database
    jobs = JobQueue(database, owner="test")
    job_id = jobs.add(jp.AdvanceJob(cid=1), run_after=0, dedupe_key="advance:1")
    assert job_id is not None
    with database.tx() as conn:
        conn.execute("UPDATE jobs SET payload_json = '{}' WHERE id = ?", (job_id,))
    assert jobs.take(job_id) is None
    assert jobs.states() == {"failed": 1}
    assert jobs.unfinished() == []


def test_a_decision_names_its_approver() -> None:
    with pytest.raises(ValueError, match="both"):
        jp.ApprovalJob(cid=1, outcome="approved")
