"""Claim-a-quote transactions per second: `Store.claim_quote` from many threads, WAL on.

Every thread tries every consignment (in its own order), so most claims are refusals and
exactly one per consignment wins: the same transaction a click runs, under contention.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks.report import Row, ms, percentile
from benchmarks.rig import BenchmarkFailed
from blocks.ship_form import shipment_modal
from bot import lifecycle
from bot.demo import DOMESTIC, fill_form
from bot.intake.forms import parse_shipment
from bot.models import Price, Quote, QuoteSet, ShipmentRequest, Step
from bot.store.writes import Store


@dataclass
class ClaimResult:
    threads: int
    consignments: int
    transactions: int
    wins: int
    seconds: float
    journal: str
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.transactions / self.seconds


def _requests(n: int) -> list[ShipmentRequest]:
    """The demo's domestic shipment as the form parses it, under `n` references of their own."""
    modal = shipment_modal("{}", shipper_reference="SHIP-BENCH")
    parsed = parse_shipment(fill_form(modal, DOMESTIC))
    if not isinstance(parsed, ShipmentRequest):
        raise BenchmarkFailed(f"the demo's shipment no longer parses: {parsed}")
    return [
        parsed.model_copy(update={"shipper_reference": f"SHIP-BENCH-{i:06d}"}) for i in range(n)
    ]


def _quotes(i: int) -> QuoteSet:
    expires = datetime.now(UTC) + timedelta(hours=1)
    quotes = tuple(
        Quote(
            reference=f"q-{i}-{k}",
            consignment_reference=f"EC-{i:09d}",
            carrier_code="DPD",
            carrier_name="DPD",
            service_code=f"DPD-{k}",
            service_name=f"Service {k}",
            price=Price(net=Decimal("5"), vat=Decimal("1"), gross=Decimal("6")),
            expires_at=expires,
        )
        for k in range(3)
    )
    return QuoteSet(request_reference=f"req-{i}", quotes=quotes)


def _quoted_store(path: Path, consignments: int) -> tuple[Store, list[int]]:
    store = Store(path)
    ids = []
    for i, request in enumerate(_requests(consignments)):
        cid, _ = store.add_consignment(
            request,
            channel_id="C0STORE",
            created_by="U0SETUP",
            response_url=None,
            view_id=None,
        )
        store.save_quotes(cid, _quotes(i))
        here = Step.NEW
        for step in lifecycle.path(Step.NEW, Step.QUOTED):  # set-up: the table's walk
            store.transition(cid, {here}, step)
            here = step
        ids.append(cid)
    return store, ids


def measure(threads: int, consignments: int) -> ClaimResult:
    with tempfile.TemporaryDirectory(prefix="shipbot-store-") as tmp:
        store, ids = _quoted_store(Path(tmp) / "claims.db", consignments)
        try:
            journal = store.journal_mode()
            wins = [0] * threads
            latencies: list[list[float]] = [[] for _ in range(threads)]
            start = threading.Barrier(threads + 1)

            def claimer(n: int) -> None:
                start.wait()
                order = ids[n % len(ids) :] + ids[: n % len(ids)]
                for cid in order:
                    quote = f"q-{cid - ids[0]}-{n % 3}"
                    began = time.perf_counter()
                    won = store.claim_quote(cid, quote, f"U{n:04d}", to=Step.CLAIMED).won
                    latencies[n].append(time.perf_counter() - began)
                    wins[n] += won

            workers = [threading.Thread(target=claimer, args=(n,)) for n in range(threads)]
            for worker in workers:
                worker.start()
            start.wait()
            began = time.perf_counter()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - began
            claimed = sum(1 for cid in ids if (r := store.get(cid)) and r.step is Step.CLAIMED)
        finally:
            store.close()
    result = ClaimResult(
        threads,
        consignments,
        threads * consignments,
        sum(wins),
        seconds,
        journal,
        [x for per_thread in latencies for x in per_thread],
    )
    if result.wins != consignments or claimed != consignments:
        raise BenchmarkFailed(
            f"{result.wins} claims won and {claimed} consignments claimed, "
            f"for {consignments} consignments"
        )
    return result


def rows(results: list[ClaimResult]) -> list[Row]:
    return [
        Row(
            "Store: claim a quote",
            f"{r.threads} thread{'s' if r.threads > 1 else ''}, {r.consignments} consignments, "
            f"journal {r.journal}",
            f"**{r.per_second:,.0f} transactions/s** ({r.transactions:,} claims in "
            f"{r.seconds:.2f} s; {r.wins} won, one per consignment); per claim p50 "
            f"{ms(percentile(r.latencies, 50))}, p99 {ms(percentile(r.latencies, 99))}",
        )
        for r in results
    ]
