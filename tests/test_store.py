"""The store on a real SQLite file: WAL, one winner per claim, dedupe, jobs, audit."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import pytest

from bot.models import (
    Allocation,
    Document,
    DocumentKind,
    QuoteSet,
    ShipmentRequest,
    Step,
)
from bot.store.job_payloads import AdvanceJob, JobPayload
from bot.store.jobs import JobRunner, RetryLater
from bot.store.writes import Store
from tests.factories import quote_set, shipment_request
from tests.harness import at_once
from tests.moves import walk_to


def _request(ref: str = "SHIP-1") -> ShipmentRequest:
    return shipment_request(ref)


def _quotes(cid_ref: str, n: int = 2) -> QuoteSet:
    return quote_set(cid_ref, n)


def test_schema_is_created_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.journal_mode() == "wal"
    assert (tmp_path / "s.db").exists()


def test_another_form_with_a_reference_in_use_is_refused(tmp_path: Path) -> None:
    from bot.store.writes import ReferenceTaken

    store = Store(tmp_path / "s.db")
    cid, _ = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id="V1"
    )
    with pytest.raises(ReferenceTaken) as taken:
        store.add_consignment(
            _request(), channel_id="C2", created_by="U2", response_url=None, view_id="V2"
        )
    assert taken.value.holder == cid
    assert store.in_flight() == [cid]


def test_the_same_view_is_stored_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    first = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id="V1"
    )
    again = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id="V1"
    )
    assert first == (first[0], True)
    assert again == (first[0], False)
    record = store.get(first[0])
    assert record is not None and record.step is Step.NEW
    assert record.request == _request()
    assert store.in_flight() == [first[0]]


def test_one_claim_wins_among_twenty_threads(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    cid, _ = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id=None
    )
    store.save_quotes(cid, _quotes("EC-1"))
    walk_to(store, cid, Step.QUOTED)
    results = at_once(
        *(partial(store.claim_quote, cid, "q-0", f"U{i}", to=Step.CLAIMED) for i in range(20))
    )
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    assert all(r.holder == winners[0].holder for r in results)
    record = store.get(cid)
    assert record is not None and record.step is Step.CLAIMED
    assert record.claimed_by == winners[0].holder


def test_a_quote_of_an_older_set_cannot_be_claimed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    cid, _ = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id=None
    )
    store.save_quotes(cid, _quotes("EC-1"))
    fresh = QuoteSet(
        request_reference="req-2",
        quotes=(_quotes("EC-1").quotes[0].model_copy(update={"reference": "q-new"}),),
    )
    store.save_quotes(cid, fresh)
    walk_to(store, cid, Step.QUOTED)
    assert not store.claim_quote(cid, "q-0", "U1", to=Step.CLAIMED).won
    assert store.claim_quote(cid, "q-new", "U1", to=Step.CLAIMED).won


def test_allocation_documents_and_audit_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    cid, _ = store.add_consignment(
        _request(), channel_id="C1", created_by="U1", response_url=None, view_id=None
    )
    walk_to(store, cid, Step.ALLOCATING)
    store.save_allocation(
        cid,
        Allocation(
            consignment_reference="EC-1",
            carrier_code="DPD",
            carrier_name="DPD",
            service_name="Next Day",
            tracking_numbers=("155", "156"),
        ),
        leaving={Step.ALLOCATING},
        price=None,
        quote_reference=None,
        user="U1",
    )
    store.save_documents(
        cid,
        [
            Document(
                kind=DocumentKind.LABEL,
                name="EC-1.pdf",
                content_type="application/pdf",
                data=b"%PDF-1.4 x",
            )
        ],
    )
    store.audit("U1", "allocate", "ok", consignment_id=cid, correlation_id="corr-1")
    store.close()

    again = Store(path)
    record = again.get(cid)
    assert record is not None and record.step is Step.ALLOCATED
    assert record.allocation is not None and record.allocation.tracking_numbers == ("155", "156")
    assert again.documents(cid, pending_only=True)[0].data == b"%PDF-1.4 x"
    again.mark_uploaded(cid, "EC-1.pdf")
    assert again.documents(cid, pending_only=True) == []
    entry = again.audit_log(cid)[0]
    assert (entry.actor, entry.action, entry.correlation_id) == ("U1", "allocate", "corr-1")


def test_events_are_seen_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.first_sighting("Ev1") is True
    assert store.first_sighting("Ev1") is False


class Flaky(JobPayload):
    kind = "test_flaky"
    n: int


class Locked(JobPayload):
    kind = "test_locked"


class Once(JobPayload):
    kind = "test_once"


def test_jobs_retry_then_give_up_and_leftovers_are_resumed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    runner = JobRunner(store.database, workers=2, max_attempts=3, backoff=0.01)
    attempts: list[int] = []
    done = threading.Event()

    def flaky(payload: Flaky) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RetryLater("not yet")
        done.set()

    runner.register(Flaky, flaky)
    runner.start()
    runner.submit(Flaky(n=1))
    assert done.wait(5)
    assert runner.wait_idle(5)
    assert len(attempts) == 3
    assert runner.queue.states() == {"done": 1}
    runner.stop()

    # A job left pending by a dead process runs when the next runner starts.
    runner.queue.add(Flaky(n=2), run_after=0, dedupe_key=None)
    second = JobRunner(store.database, workers=1, backoff=0.01)
    seen: list[object] = []
    second.register(Flaky, lambda payload: seen.append(payload.n))
    assert second.start() == 1
    assert second.wait_idle(5)
    second.stop()
    assert seen == [2]


def test_an_unexpected_error_is_retried_then_its_give_up_handler_runs(tmp_path: Path) -> None:
    import sqlite3

    store = Store(tmp_path / "s.db")
    runner = JobRunner(store.database, workers=1, max_attempts=3, backoff=0.01)
    tries: list[int] = []
    given_up: list[Exception] = []

    def locked(payload: JobPayload) -> None:
        tries.append(1)
        raise sqlite3.OperationalError("database is locked")

    runner.register(Locked, locked, on_give_up=lambda payload, exc: given_up.append(exc))

    def once(payload: Once) -> None:
        if not tries:
            locked(payload)

    runner.register(Once, once)
    runner.start()
    runner.submit(Locked())
    assert runner.wait_idle(5)
    assert tries == [1, 1, 1]
    assert len(given_up) == 1 and isinstance(given_up[0], sqlite3.OperationalError)
    assert runner.queue.states() == {"failed": 1}
    tries.clear()
    runner.submit(Once())  # fails once, then works: no give-up
    assert runner.wait_idle(5)
    runner.stop()
    assert len(given_up) == 1
    assert runner.queue.states() == {"failed": 1, "done": 1}


class WebJob(JobPayload):
    kind = "test_web"
    n: int


class FollowOn(JobPayload):
    kind = "test_follow_on"


class _Pipe:
    """The server's side of the pipe to its worker: pokes written, delivered when we say
    (a poke still on its way when the worker queues its own job)."""

    def __init__(self) -> None:
        self.pokes = 0

    def poke(self) -> None:
        self.pokes += 1

    def problem(self) -> str | None:
        return None


def test_a_web_job_older_than_the_workers_own_follow_on_still_runs(tmp_path: Path) -> None:
    # Two processes on one file: the web one writes rows and pokes, the worker runs them.
    worker_store, web_store = Store(tmp_path / "s.db"), Store(tmp_path / "s.db")
    worker = JobRunner(worker_store.database, workers=2, backoff=0.01)
    ran: list[object] = []
    worker.register(WebJob, lambda payload: ran.append(payload.n))
    worker.register(FollowOn, lambda payload: ran.append("follow-on"))
    worker.start()
    web = JobRunner(web_store.database)
    web.register(WebJob, lambda payload: None)
    pipe = _Pipe()
    web.worker = pipe
    try:
        older = web.submit(WebJob(n=1))  # committed, its poke not yet read by the worker
        newer = worker.submit(FollowOn())  # the worker's own next step: a higher id
        assert older is not None and newer is not None and older < newer
        assert worker.wait_idle(5)
        assert pipe.pokes == 1
        worker.pull()  # the poke arrives (the heartbeat's look may have come first)
        assert worker.wait_idle(5)
        assert sorted(map(str, ran)) == ["1", "follow-on"]
        assert worker.queue.states() == {"done": 2}
        assert worker.pull() == 0  # nothing held or done is queued again
    finally:
        worker.stop()
        worker_store.close()
        web_store.close()


def test_a_pending_job_is_not_queued_twice(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    queue = JobRunner(store.database).queue
    assert queue.add(AdvanceJob(cid=1), run_after=0, dedupe_key="advance:1")
    assert queue.add(AdvanceJob(cid=1), run_after=0, dedupe_key="advance:1") is None
