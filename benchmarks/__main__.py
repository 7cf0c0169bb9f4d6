"""`python -m benchmarks`: every benchmark on loopback, one table, saved with the machine.

`--quick` runs each one with tiny numbers (the test suite's smoke run); `--out` chooses
where the table goes (default benchmarks/results.md; `-` for nowhere).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import acks, flow, once, servers, slack_scale, store_claims
from benchmarks.report import Row, machine, section, splice, table

RESULTS = Path(__file__).with_name("results.md")


@dataclass(frozen=True)
class Sizes:
    ack_levels: tuple[tuple[int, int], ...]  # (concurrent agents, requests of each kind)
    ack_warmup: int
    slow_agents: int
    slow_requests: int
    slow_latency: float
    flow_consignments: int
    flow_agents: int
    flow_latency: float
    once_rounds: int
    once_clickers: int
    store_threads: tuple[int, ...]
    store_consignments: int
    scale_agents: int
    scale_per_agent: int
    scale_channels: tuple[int, ...]
    scale_rate: float


FULL = Sizes(
    ack_levels=((1, 100), (20, 400)),
    ack_warmup=20,
    slow_agents=20,
    slow_requests=200,
    slow_latency=2.0,
    flow_consignments=50,
    flow_agents=10,
    flow_latency=0.2,
    once_rounds=100,
    once_clickers=20,
    store_threads=(1, 20),
    store_consignments=500,
    scale_agents=20,
    scale_per_agent=2,
    scale_channels=(1, 20),
    scale_rate=1.0,
)
QUICK = Sizes(
    ack_levels=((3, 3),),
    ack_warmup=1,
    slow_agents=3,
    slow_requests=3,
    slow_latency=0.2,
    flow_consignments=4,
    flow_agents=2,
    flow_latency=0.02,
    once_rounds=2,
    once_clickers=4,
    store_threads=(4,),
    store_consignments=20,
    scale_agents=3,
    scale_per_agent=1,
    scale_channels=(1,),
    scale_rate=20.0,
)


def run(sizes: Sizes, *, workers: int | None, say: bool = True) -> list[Row]:
    def step(text: str) -> None:
        if say:
            print(f"  … {text}", file=sys.stderr, flush=True)

    rows: list[Row] = []
    fast: list[acks.Latencies] = []
    for agents, n in sizes.ack_levels:
        step(f"ack latency, {agents} agent(s), {n} of each request, shipbot and bare Bolt")
        fast += acks.measure(agents, n, sizes.ack_warmup, workers=workers)
    step(f"ack latency with the carrier at {sizes.slow_latency:g} s")
    slow = acks.measure_slow_carrier(
        sizes.slow_agents, sizes.slow_requests, sizes.slow_latency, workers=workers
    )
    rows += acks.rows(fast, slow, slow_latency=sizes.slow_latency)
    step(f"full flow, {sizes.flow_consignments} consignments by {sizes.flow_agents} agents")
    rows += flow.rows(
        flow.measure(
            sizes.flow_consignments, sizes.flow_agents, sizes.flow_latency, workers=workers
        )
    )
    step(f"exactly once, {sizes.once_rounds} rounds of {sizes.once_clickers} clicks")
    rows += once.rows(once.measure(sizes.once_rounds, sizes.once_clickers))
    for channels in sizes.scale_channels:
        step(
            f"Slack limits enforced: {sizes.scale_agents} agents × {sizes.scale_per_agent}, "
            f"{channels} channel(s)"
        )
        rows += slack_scale.rows(
            [
                slack_scale.measure(
                    sizes.scale_agents,
                    sizes.scale_per_agent,
                    channels,
                    rate_scale=sizes.scale_rate,
                )
            ]
        )
    step("store claims")
    rows += store_claims.rows(
        [store_claims.measure(t, sizes.store_consignments) for t in sizes.store_threads]
    )
    return rows


def document(rows: Sequence[Row], *, seconds: float, workers: int | None) -> str:
    met = [r for r in rows if r.met is not None]
    missed = [r for r in met if not r.met]
    lines = [
        "# shipbot benchmarks",
        "",
        "`python -m benchmarks`, on loopback: the real app (`python -m bot.cli serve --http`) in",
        "its own process, signed requests as Slack sends them, the fake Slack Web API and the",
        "sandbox carrier (with injected latency) in the benchmark process; carrier calls are",
        "counted in the sandbox's request log. Bare Bolt: listeners that only ack(), Bolt's",
        "default mode, same HTTP server. Agents are closed-loop: each sends its next request",
        "as soon as the last is answered.",
        "",
        "Machine: " + "; ".join(machine()),
        f"Bot settings: {f'SHIPBOT_WORKERS={workers}' if workers else 'defaults'}. "
        f"Run took {seconds:.0f} s. Targets met: {len(met) - len(missed)} of {len(met)}.",
        "",
        table(rows),
        "",
        "How to read it:",
        "",
        "- Mode: shipbot runs Bolt with `process_before_response=True` (bot/app.py): the HTTP",
        "  answer goes out when the listener returns, with no 10 ms ack poll, and listeners",
        "  only parse, touch SQLite and queue a job. `/ship` acks first and opens the modal",
        "  right after on a small thread pool of its own (the trigger_id lasts 3 s), so its",
        "  ack never waits for views.open. Bare Bolt, in the default mode, polls for ack()",
        "  every 10 ms.",
        "- Quote clicks to shipbot go to fresh consignments, one click each: every timed click",
        "  is a winning claim (claim transaction, audit row, queued job) and starts an",
        "  allocate, label and upload flow in the background. Bare Bolt gets the same payloads.",
        "  Modal submissions likewise each start a create-and-quote flow; bare Bolt's do not.",
        "- App CPU: the app's CPU time over the phase's wall time, shipbot's web and worker",
        "  processes together (as is its RSS). One CPython process tops out near 100% (the",
        "  GIL), however many threads it has.",
        "- Full flow ideal: carrier calls of one flow (from the sandbox log) × latency ×",
        "  consignments / agents.",
        "- Slack limits: the stand-in Slack enforces Slack's published limits (chat.update",
        "  Tier 3 ≈ 50/min, uploads and views Tier 4 ≈ 100/min, chat.postMessage ≈ 1/s per",
        "  channel) with 429 + Retry-After. Sustained = consignments from the first submit",
        "  to the last channel message's final state. Ceiling = for each method, its limit",
        "  / its calls per consignment; the smallest binds. Every other benchmark runs",
        "  with the limits off.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny numbers: a smoke run")
    parser.add_argument(
        "--out", default=None, help=f"where to write the table (default {RESULTS}; - for none)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="SHIPBOT_WORKERS for the bot (default: its own)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    began = time.monotonic()
    rows = run(sizes, workers=args.workers)
    text = document(rows, seconds=time.monotonic() - began, workers=args.workers)
    print(text)
    out = args.out if args.out is not None else ("-" if args.quick else str(RESULTS))
    if out != "-":
        path = Path(out)
        # The before/after servers section is written by `python -m benchmarks.servers`.
        # So is the Slack-limits before/after section (`python -m benchmarks.slack_scale`).
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        for heading in (servers.HEADING, slack_scale.HEADING):
            kept = section(old, heading)
            text = splice(text, heading, kept) if kept else text
        path.write_text(text, encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
