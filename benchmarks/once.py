"""Exactly once: many agents click the same quote at the same moment, then Slack replays.

Each round: one fresh consignment, `clickers` signed clicks on its cheapest quote released
together, then the very same bytes of one of them posted again (same timestamp, same
signature: a retried delivery). The carrier's own request log must show one allocate call
for that consignment, whatever the round.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from benchmarks.procs import wait_jobs_done
from benchmarks.report import Row
from benchmarks.rig import (
    Agent,
    BenchmarkFailed,
    Consignment,
    ModalIndex,
    Payloads,
    Sent,
    Signed,
    http_client,
    label_files,
    loopback,
    payload_body,
    send,
    shipbot_on,
    start_and_join,
)
from blocks.ids import CHOOSE_QUOTE

PREPARERS = 10


@dataclass
class OnceResult:
    rounds: int
    clickers: int
    requests: int
    answered_200: int
    allocations: Counter[str]  # carrier reference -> allocate calls
    labelled: int

    @property
    def exactly_once(self) -> bool:
        return (
            len(self.allocations) == self.rounds
            and set(self.allocations.values()) == {1}
            and self.labelled == self.rounds
        )


def _prepare(agents: list[Agent], rounds: int) -> list[Consignment]:
    """`rounds` consignments with quotes showing, shipped by a few agents side by side."""
    prepared: list[Consignment] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def ship(agent: Agent, count: int) -> None:
        try:
            for _ in range(count):
                c = agent.wait_quoted(agent.submit(agent.open_form()))
                with lock:
                    prepared.append(c)
        except BaseException as exc:
            failures.append(exc)

    per = [rounds // len(agents) + (i < rounds % len(agents)) for i in range(len(agents))]
    threads = [threading.Thread(target=ship, args=(a, n)) for a, n in zip(agents, per, strict=True)]
    start_and_join(threads)
    if failures:
        raise BenchmarkFailed(f"preparing consignments failed: {failures[0]!r}") from failures[0]
    return prepared


def _race(url: str, bodies: list[Signed]) -> list[Sent]:
    """Every body posted at once, each on its own connection; then the first one again."""
    results: list[Sent | None] = [None] * len(bodies)
    timestamp = int(time.time())
    start = threading.Barrier(len(bodies))
    clients = [http_client() for _ in bodies]
    try:

        def click(i: int) -> None:
            start.wait()
            results[i] = send(clients[i], url, bodies[i], timestamp=timestamp)

        threads = [threading.Thread(target=click, args=(i,)) for i in range(len(bodies))]
        start_and_join(threads)
        replay = send(clients[0], url, bodies[0], timestamp=timestamp)
    finally:
        for client in clients:
            client.close()
    return [r for r in results if r is not None] + [replay]


def measure(rounds: int, clickers: int) -> OnceResult:
    with loopback() as world:
        bot = shipbot_on(world)
        try:
            modals = ModalIndex(world.fake)
            preparers = [
                Agent(world, bot.url, f"U0ONCE{n:03d}", f"C0ONCE{n:03d}", modals)
                for n in range(min(PREPARERS, rounds))
            ]
            consignments = _prepare(preparers, rounds)
            for agent in preparers:
                agent.close()
            wait_jobs_done(bot)  # every consignment is QUOTED before anyone clicks
            payloads = Payloads(world.fake)
            sent: list[Sent] = []
            for c in consignments:
                bodies = [
                    payload_body(
                        payloads.click_payload(
                            c.channel, c.quotes_ts, CHOOSE_QUOTE, user=f"U0CLICK{k:03d}"
                        )
                    )
                    for k in range(clickers)
                ]
                sent += _race(bot.url, bodies)
            wait_jobs_done(bot)
            labels = label_files(world.fake)
            labelled = sum(1 for c in consignments if c.message_ts in labels)
            references = {labels[c.message_ts] for c in consignments if c.message_ts in labels}
            allocations: Counter[str] = Counter()
            for entry in world.sandbox.requests():
                parts = entry["path"].split("/")
                if entry["method"] == "PUT" and parts[1:2] == ["allocation"]:
                    allocations[parts[2]] += 1
            unknown = set(allocations) - references
            if unknown:
                raise BenchmarkFailed(f"allocations for consignments never labelled: {unknown}")
        finally:
            bot.stop()
    return OnceResult(
        rounds,
        clickers,
        len(sent),
        sum(1 for s in sent if s.status == 200),
        allocations,
        labelled,
    )


def rows(r: OnceResult) -> list[Row]:
    spread = Counter(r.allocations.values())
    per_quote = ", ".join(f"{n} call{'s' if n != 1 else ''}: {k} quotes" for n, k in spread.items())
    return [
        Row(
            "Exactly once",
            f"{r.rounds} rounds × {r.clickers} simultaneous clicks on one quote + 1 replay",
            f"allocate calls per quote at the carrier: **{per_quote or 'none'}**; "
            f"{r.labelled}/{r.rounds} labels; {r.answered_200}/{r.requests} requests "
            "answered 200",
            "exactly 1 allocate per quote, every round",
            r.exactly_once and r.answered_200 == r.requests,
        )
    ]
