"""Ack latency: shipbot against a bare Bolt app, for the three requests agents send.

Same payloads to both apps, same HTTP server, each app in its own process. Clicks go to
fresh consignments (one click each), so every click we time is a winning claim: the
heaviest path (claim transaction, audit row, queued allocate job).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk import WebClient

from benchmarks.load import Maker, closed_loop
from benchmarks.procs import AppProcess, start_bare_bolt, wait_jobs_done
from benchmarks.report import Row, ms, percentile
from benchmarks.rig import (
    SECRET,
    BenchmarkFailed,
    Loopback,
    ModalIndex,
    Payloads,
    Signed,
    loopback,
    payload_body,
    poll,
    quotes_ts,
    shipbot_on,
    shipper_reference,
)
from blocks.ids import CHOOSE_QUOTE
from blocks.ship_form import shipment_modal
from bot.demo import DOMESTIC, fill_form

KINDS = ("slash command", "modal submission", "quote click")
SLOW_ACK = 3.0  # Slack's deadline


@dataclass
class Latencies:
    app: str
    kind: str
    concurrency: int
    carrier_latency: float
    seconds: list[float]
    cpu_share: float = 0.0  # the app's CPU time over the phase's wall time (1.0 = one core)

    @property
    def p50(self) -> float:
        return percentile(self.seconds, 50)

    @property
    def p99(self) -> float:
        return percentile(self.seconds, 99)

    @property
    def max(self) -> float:
        return max(self.seconds)

    def summary(self) -> str:
        return (
            f"p50 {ms(self.p50)}, p99 {ms(self.p99)}, max {ms(self.max)} "
            f"(app CPU {self.cpu_share:.0%} of a core)"
        )


@dataclass
class Quoted:
    channel: str
    user: str
    reference: str
    quotes_ts: str = ""


@dataclass
class Session:
    """One bot (and maybe one bare Bolt app) on one fresh loopback world."""

    world: Loopback
    bot: AppProcess
    bare: AppProcess | None
    concurrency: int
    carrier_latency: float = 0.0
    results: list[Latencies] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self.modals = ModalIndex(self.world.fake)

    @property
    def payloads(self) -> Payloads:
        """One builder per thread: SlackPayloads keeps the last trigger and response_url."""
        builder: Payloads | None = getattr(self._local, "payloads", None)
        if builder is None:
            builder = self._local.payloads = Payloads(self.world.fake)
        return builder

    def agent(self, i: int) -> tuple[str, str]:
        """(channel, user) of agent i: one channel each."""
        n = i % self.concurrency
        return f"C0ACK{n:04d}", f"U0ACK{n:04d}"

    def owner(self, view: dict[str, Any]) -> tuple[str, str]:
        """The agent whose `/ship` opened this modal (its channel is in the metadata)."""
        channel = str(json.loads(view["private_metadata"])["channel"])
        return channel, "U0ACK" + channel.removeprefix("C0ACK")

    def run(
        self,
        app: AppProcess,
        kind: str,
        makers: list[Maker],
        *,
        record: bool,
        then: Callable[[int], None] | None = None,
    ) -> None:
        cpu, began = app.cpu_seconds(), time.perf_counter()
        sent = closed_loop(app.url, makers, self.concurrency, then=then)
        cpu_share = (app.cpu_seconds() - cpu) / (time.perf_counter() - began)
        if app is self.bot and kind == KINDS[0]:
            opened = [s for s in sent if s.text.strip()]
            if opened:
                raise BenchmarkFailed(f"{len(opened)} /ship did not open the form: {opened[0]}")
        if record:
            name = "shipbot" if app is self.bot else "bare Bolt"
            self.results.append(
                Latencies(
                    name,
                    kind,
                    self.concurrency,
                    self.carrier_latency,
                    [s.seconds for s in sent],
                    cpu_share,
                )
            )

    def commands(self, n: int, *, record: bool) -> list[str]:
        """n `/ship` to each app; returns the response_urls of the modals ours opened."""
        urls: list[str] = []
        by_request: dict[int, str] = {}

        def command(i: int, keep: bool) -> Maker:
            def make() -> Signed:
                channel, user = self.agent(i)
                form = self.payloads.command_payload("", user=user, channel=channel)
                if keep:
                    urls.append(form["response_url"])
                    by_request[i] = form["response_url"]
                return Signed(urlencode(form))

            return make

        def see_the_modal(i: int) -> None:
            """Our ack comes before the modal; an agent waits for it before anything else."""
            self._modal(by_request[i])

        if self.bare is not None:
            self.run(self.bare, KINDS[0], [command(i, False) for i in range(n)], record=record)
        self.run(
            self.bot,
            KINDS[0],
            [command(i, True) for i in range(n)],
            record=record,
            then=see_the_modal,
        )
        return urls

    def _modal(self, response_url: str) -> dict[str, Any]:
        found: dict[str, Any] = poll(
            "a modal opened by /ship", lambda: self.modals.get(response_url), 10.0
        )
        return found

    def submissions(self, response_urls: list[str], *, record: bool) -> list[Quoted]:
        """Submit each modal ours opened: to the bare app first, then to ours."""
        # The bot acks /ship first and opens the modal right after: wait for each one.
        chosen = [self._modal(u) for u in response_urls]
        owners = [self.owner(v) for v in chosen]

        # Built before the clock starts: a 20 kB body costs the load generator real CPU.
        makers = [
            _ready(payload_body(self.payloads.submission(v, fill_form(v, DOMESTIC), user=user)))
            for v, (_, user) in zip(chosen, owners, strict=True)
        ]
        if self.bare is not None:
            self.run(self.bare, KINDS[1], makers, record=record)
        self.run(self.bot, KINDS[1], makers, record=record)
        for view in chosen:
            self.world.fake.apply_view_ack(view["id"], {})
        return [
            Quoted(channel, user, shipper_reference(view))
            for view, (channel, user) in zip(chosen, owners, strict=True)
        ]

    def wait_quoted(self, consignments: list[Quoted], timeout: float) -> None:
        """Until each consignment's thread shows its quote buttons (one look per channel)."""
        fake = self.world.fake
        deadline = time.monotonic() + timeout
        waiting = [c for c in consignments if not c.quotes_ts]
        while waiting:
            channels = {c.channel for c in waiting}
            tops = {c: [(json.dumps(m.blocks), m.ts) for m in fake.messages(c)] for c in channels}
            for c in waiting:
                ts = next((ts for text, ts in tops[c.channel] if c.reference in text), None)
                c.quotes_ts = (quotes_ts(fake, c.channel, ts) if ts else None) or ""
            waiting = [c for c in waiting if not c.quotes_ts]
            if waiting and time.monotonic() > deadline:
                refs = ", ".join(f"{c.reference} in {c.channel}" for c in waiting[:5])
                raise BenchmarkFailed(f"{len(waiting)} consignments never showed quotes: {refs}")
            time.sleep(0.1)

    def clicks(self, consignments: list[Quoted], *, record: bool) -> None:
        """The first quote of each consignment: once to the bare app, once to ours."""

        makers = [
            _ready(
                payload_body(
                    self.payloads.click_payload(c.channel, c.quotes_ts, CHOOSE_QUOTE, user=c.user)
                )
            )
            for c in consignments
        ]
        if self.bare is not None:
            self.run(self.bare, KINDS[2], makers, record=record)
        self.run(self.bot, KINDS[2], makers, record=record)

    def round(self, n: int, *, record: bool) -> None:
        urls = self.commands(n, record=record)
        wait_jobs_done(self.bot)
        quoted = self.submissions(urls, record=record)
        self.wait_quoted(quoted, timeout=60 + n * 0.5)
        wait_jobs_done(self.bot)
        self.clicks(quoted, record=record)
        wait_jobs_done(self.bot)


def _ready(request: Signed) -> Maker:
    return lambda: request


def _session(
    concurrency: int,
    body: Callable[[Session], None],
    *,
    bare: bool,
    carrier_latency: float = 0.0,
    workers: int | None = None,
) -> list[Latencies]:
    with loopback() as world:
        bot = shipbot_on(world, workers=workers)
        baseline = None
        try:
            if bare:
                baseline = start_bare_bolt(
                    slack_url=world.fake.url, secret=SECRET, workdir=world.workdir
                )
            session = Session(world, bot, baseline, concurrency)
            for i in range(concurrency):
                world.fake.add_channel(session.agent(i)[0])
            try:
                body(session)
            except BenchmarkFailed as exc:
                raise BenchmarkFailed(f"{exc}; the bot logged: {bot.problems()}") from exc
            return session.results
        finally:
            if baseline is not None:
                baseline.stop()
            bot.stop()


def views_open_alone(world: Loopback, n: int) -> Latencies:
    """`views.open` of the real modal against this fake, one at a time, as the bot calls it:
    the part of our `/ship` ack that is the fake Slack's, not ours."""
    client = WebClient(token="xoxb-bench-reference", base_url=world.fake.url)
    view = shipment_modal(json.dumps({"channel": "C0REF"}), shipper_reference="SHIP-REF")
    seconds = []
    for _ in range(n):
        trigger = world.fake.issue_trigger()
        began = time.perf_counter()
        client.views_open(trigger_id=trigger, view=view)
        seconds.append(time.perf_counter() - began)
    return Latencies("fake Slack", "views.open", 1, 0.0, seconds)


def measure(concurrency: int, n: int, warmup: int, workers: int | None = None) -> list[Latencies]:
    """Both apps, carrier at zero latency: n of each request, after an untimed warm-up."""

    def body(s: Session) -> None:
        s.round(warmup, record=False)
        s.round(n, record=True)
        if concurrency == 1:
            s.results.append(views_open_alone(s.world, min(n, 50)))

    return _session(concurrency, body, bare=True, workers=workers)


def measure_slow_carrier(
    concurrency: int, n: int, carrier_latency: float, workers: int | None = None
) -> list[Latencies]:
    """Ours only, every carrier call slowed: acks must not wait for the carrier."""

    def body(s: Session) -> None:
        urls = s.commands(n, record=False)
        ready = s.submissions(urls, record=False)  # quoted before the carrier slows
        s.wait_quoted(ready, timeout=60 + n * 0.5)
        wait_jobs_done(s.bot)
        s.world.set_carrier_latency(carrier_latency)
        s.carrier_latency = carrier_latency
        urls = s.commands(n, record=True)
        s.submissions(urls, record=True)  # their create calls queue up behind 2 s each
        s.clicks(ready, record=True)  # allocations queue behind those
        s.world.set_carrier_latency(0.0)

    return _session(concurrency, body, bare=False, carrier_latency=carrier_latency, workers=workers)


# Issue 27: every request kind's ack p99 within this of bare Bolt's, in the same run.
ACK_RATIO = 1.3


def rows(fast: list[Latencies], slow: list[Latencies], *, slow_latency: float) -> list[Row]:
    out: list[Row] = []
    by_key = {(r.app, r.kind, r.concurrency): r for r in fast}
    reference = next((r for r in fast if r.app == "fake Slack"), None)
    for r in fast:
        if r.app != "shipbot":
            continue
        bare = by_key.get(("bare Bolt", r.kind, r.concurrency))
        if bare is None:
            continue
        ratio = r.p99 / bare.p99
        met = ratio <= ACK_RATIO
        out.append(
            Row(
                f"Ack: {r.kind}",
                f"{r.concurrency} agent{'s' if r.concurrency > 1 else ''}, n={len(r.seconds)}",
                f"ours {r.summary()}; bare Bolt {bare.summary()}; p99 ratio **{ratio:.2f}×**"
                + (
                    f"; views.open to this fake alone, one at a time (after our ack): "
                    f"p50 {ms(reference.p50)}, p99 {ms(reference.p99)}"
                    if reference is not None and r.kind == KINDS[0]
                    else ""
                ),
                f"p99 ≤ {ACK_RATIO:g}× bare (issue 27)",
                met,
            )
        )
    if slow:
        late = sum(1 for r in slow for s in r.seconds if s > SLOW_ACK)
        total = sum(len(r.seconds) for r in slow)
        detail = "; ".join(f"{r.kind} {r.summary()}" for r in slow)
        out.append(
            Row(
                f"Ack, carrier at {slow_latency:g} s",
                f"{slow[0].concurrency} agents, n={total}",
                f"**{late}** acks later than {SLOW_ACK:g} s; {detail}",
                "0 acks past 3 s",
                late == 0,
            )
        )
    return out
