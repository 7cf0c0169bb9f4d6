"""Prometheus metrics of one running bot, in its own registry (tests run several bots at once).

Counted where the thing happens, once: carrier calls in the carrier client's one HTTP call
(each attempt, by endpoint and outcome, with latency), Slack Web API calls in the one
WebClient every call goes through (by method and outcome, 429s apart), acks in a Bolt
middleware (by kind, with latency). What is waiting (jobs, outbox rows) and consignments by
step are read from the store at scrape time by a collector, through the store's own reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.models import Step

if TYPE_CHECKING:
    from slack_bolt import BoltResponse

    from bot.slack.outbox import Outbox
    from bot.store.jobs import JobRunner
    from bot.store.reads import StoreReads

log = logging.getLogger("shipbot.metrics")

# Carrier outcomes that mean it is not answering as it should (the readiness check's test).
_FAILING_STATUS = (401, 403)
# What an ack's `kind` label may be (a body of any other type is "other").
ACK_KINDS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
    }
)
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_ACK_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def ack_kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "command"
    kind = str(body.get("type") or "")
    if kind == "event_callback":
        return "event"
    return kind if kind in ACK_KINDS else "other"


@dataclass(frozen=True)
class LastCall:
    """The latest call's outcome, for the readiness check."""

    outcome: str
    failing: bool
    at: float


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.carrier_calls = Counter(
            "shipbot_carrier_calls",
            "HTTP requests to Sorted PRO (each attempt) by endpoint and outcome (status or error)",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.carrier_seconds = Histogram(
            "shipbot_carrier_call_seconds",
            "Latency of HTTP requests to Sorted PRO by endpoint",
            ["endpoint"],
            buckets=_LATENCY,
            registry=r,
        )
        self.slack_calls = Counter(
            "shipbot_slack_calls",
            "Slack Web API calls by method and outcome (ok, or Slack's error)",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_ratelimited = Counter(
            "shipbot_slack_ratelimited",
            "Slack Web API calls Slack answered 429 by method",
            ["method"],
            registry=r,
        )
        self.slack_seconds = Histogram(
            "shipbot_slack_call_seconds",
            "Latency of Slack Web API calls by method",
            ["method"],
            buckets=_LATENCY,
            registry=r,
        )
        self.acks = Counter(
            "shipbot_acks", "Requests from Slack acked, by kind", ["kind"], registry=r
        )
        self.ack_seconds = Histogram(
            "shipbot_ack_seconds",
            "Time from a request reaching the app to its ack, by kind",
            ["kind"],
            buckets=_ACK_LATENCY,
            registry=r,
        )
        self._lock = threading.Lock()
        self.last_carrier: LastCall | None = None
        self.last_slack: LastCall | None = None

    # -- observers, called by the carrier client and the Slack client ---------------------
    def carrier_call(
        self, method: str, route: str, status: int | None, error: str | None, seconds: float
    ) -> None:
        """`route` has no references in it (`/quotes/consignment/{}`): a label of few values."""
        endpoint = f"{method} {route}"
        outcome = str(status) if status is not None else (error or "error")
        self.carrier_calls.labels(endpoint, outcome).inc()
        self.carrier_seconds.labels(endpoint).observe(seconds)
        failing = status is None or status >= 500 or status in _FAILING_STATUS
        with self._lock:
            self.last_carrier = LastCall(f"{endpoint} -> {outcome}", failing, time.time())

    def slack_call(self, method: str, outcome: str, seconds: float, failing: bool) -> None:
        self.slack_calls.labels(method, outcome).inc()
        if outcome == "ratelimited":
            self.slack_ratelimited.labels(method).inc()
        self.slack_seconds.labels(method).observe(seconds)
        with self._lock:
            self.last_slack = LastCall(f"{method} -> {outcome}", failing, time.time())

    def ack_middleware(
        self, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Outermost Bolt middleware: with process_before_response the listener has run
        when `next` returns, so this is the ack's time as Slack waits for it."""
        started = time.perf_counter()
        try:
            return next()
        finally:
            kind = ack_kind(body)
            self.acks.labels(kind).inc()
            self.ack_seconds.labels(kind).observe(time.perf_counter() - started)

    def watch_store(self, store: StoreReads, runner: JobRunner, outbox: Outbox) -> None:
        self.registry.register(StoreCollector(store, runner, outbox))


class StoreCollector(Collector):
    """Gauges read at scrape time: consignments by step, jobs and outbox rows by state."""

    def __init__(self, store: StoreReads, runner: JobRunner, outbox: Outbox) -> None:
        self._store = store
        self._runner = runner
        self._outbox = outbox

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # not read at registration: the store is read only when scraped

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            steps = self._store.count_by_step()
            jobs = self._runner.queue.states()
            outbox = self._outbox.states()
        except Exception as exc:  # a locked database: this scrape goes without them
            log.warning("metrics: the store could not be read (%s)", type(exc).__name__)
            return
        consignments = GaugeMetricFamily(
            "shipbot_consignments", "Consignments by step", labels=["step"]
        )
        for step in Step:
            consignments.add_metric([step.value], steps.get(step, 0))
        yield consignments
        yield _by_state("shipbot_jobs", "Jobs by state (pending ones wait)", jobs)
        yield _by_state(
            "shipbot_outbox_rows", "Slack edits in the outbox by state (pending ones wait)", outbox
        )


def _by_state(name: str, documentation: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state in sorted({"pending", *counts}):
        family.add_metric([state], counts.get(state, 0))
    return family
