"""Slack at scale: 20 agents ship at once against a stand-in Slack that enforces Slack's rate
limits (429 + Retry-After), in one channel and across channels.

Measures what one workspace sustains (consignments a minute, first submit to last final
state), the Web API calls a consignment costs by method, the 429s Slack had to send, "busy"
answers to `/ship`, click → label and click → Choose buttons gone; and sets it against the
ceiling the limits allow (bot/slack/pacing.py's table).

`python -m benchmarks.slack_scale LABEL [AGENTS PER_AGENT CHANNELS]` prints one row for
LABEL (results.md's before/after table: run it once per tree, the bot from PYTHONPATH).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.procs import wait_jobs_done
from benchmarks.report import Row, ms, percentile
from benchmarks.rig import (
    Agent,
    BenchmarkFailed,
    Consignment,
    ModalIndex,
    has_quote_buttons,
    label_files,
    loopback,
    poll,
    shipbot_on,
    start_and_join,
)
from bot.desk.messages import STILL_QUOTING
from bot.slack.pacing import PER_CHANNEL, TIERS

NOT_WEB_API = {"auth.test", "upload", "response", "view_ack", "command_ack"}
BUSY = "Slack is busy right now"


def _open_form(agent: Agent, busy: list[str]) -> dict[str, Any]:
    """`/ship`; told Slack is busy (no views.open slot within the trigger's 3 s), a person
    types it again a moment later."""
    for _ in range(30):
        request, response_url = agent.command()
        agent.post(request)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            view = agent.modals.get(response_url)
            if view is not None:
                return view
            if agent.told(response_url, BUSY):
                busy.append(agent.user)
                time.sleep(1.0)
                break
            time.sleep(0.02)
        else:
            raise BenchmarkFailed("the modal never opened")
    raise BenchmarkFailed("Slack stayed busy for 30 tries")


@dataclass
class ScaleResult:
    channels: int
    agents: int
    consignments: int
    rate_scale: float
    wall_seconds: float
    calls: Counter[str]
    ratelimited: int
    click_to_label: list[float]
    busy_retries: int = 0
    # From each click until its quotes message shows no Choose button (seconds).
    click_to_gone: list[float] = field(default_factory=list)
    response_posts: int = 0  # response_url POSTs Slack took (outside the Web API's tiers)
    # From the last label seen until every channel message showed its final state (seconds).
    final_after_last_label: float = 0.0

    @property
    def per_minute(self) -> float:
        """In real Slack minutes: a sped-up stand-in's minute is 1/rate_scale of one."""
        return self.consignments / (self.wall_seconds * self.rate_scale) * 60

    def per_consignment(self) -> dict[str, float]:
        return {m: n / self.consignments for m, n in sorted(self.calls.items())}

    def ceiling(self) -> tuple[float, str]:
        """Consignments a minute the limits allow, and the method that binds."""
        best: tuple[float, str] = (float("inf"), "none")
        for method, per in self.per_consignment().items():
            rate = TIERS.get(method)
            if rate is None or per <= 0:
                continue
            allowed = rate.per_minute * (self.channels if method in PER_CHANNEL else 1)
            best = min(best, (allowed / per, method))
        return best


def measure(
    agents: int,
    per_agent: int,
    channels: int,
    *,
    rate_scale: float = 1.0,
    workers: int | None = None,
) -> ScaleResult:
    with loopback(rate_limits=True, rate_scale=rate_scale) as world:
        bot = shipbot_on(
            world, workers=workers, extra_env={"SHIPBOT_SLACK_RATE_SCALE": str(rate_scale)}
        )
        try:
            modals = ModalIndex(world.fake)
            people = [
                Agent(world, bot.url, f"U0SCALE{n:03d}", f"C0SCALE{n % channels:03d}", modals)
                for n in range(agents)
            ]
            shipped: list[Consignment] = []
            click_to_label: list[float] = []
            click_to_gone: list[float] = []
            labelled_at: list[float] = []
            failures: list[BaseException] = []
            busy: list[str] = []
            lock = threading.Lock()
            timeout = 600.0 / rate_scale + 30

            def ship(agent: Agent) -> None:
                try:
                    for _ in range(per_agent):
                        c = agent.submit(_open_form(agent, busy))
                        agent.wait_quoted(c, timeout)
                        request, response_url = agent.click(c)
                        clicked = time.perf_counter()
                        agent.post(request)
                        labelled: str | None = None
                        took: float | None = None
                        gone: float | None = None
                        while took is None or gone is None:
                            now = time.perf_counter() - clicked
                            if gone is None and not has_quote_buttons(
                                agent.fake.message(c.channel, c.quotes_ts)
                            ):
                                gone = now
                            if took is None:
                                labelled = label_files(agent.fake).get(c.message_ts)
                                took = now if labelled is not None else None
                            if took is None and agent.told(response_url, STILL_QUOTING):
                                request, response_url = agent.click(c)
                                agent.post(request)
                            if now > timeout:
                                raise BenchmarkFailed(f"no label for {c.reference} in time")
                            time.sleep(0.01)
                        c.carrier_reference = labelled or ""
                        with lock:
                            click_to_label.append(took)
                            click_to_gone.append(gone)
                            labelled_at.append(clicked + took)
                            shipped.append(c)
                except BaseException as exc:
                    failures.append(exc)

            threads = [threading.Thread(target=ship, args=(a,)) for a in people]
            began = time.perf_counter()
            start_and_join(threads)
            if failures:
                raise BenchmarkFailed(
                    f"an agent failed: {failures[0]}; the bot logged: {bot.problems()}"
                ) from failures[0]

            def settled() -> bool:
                for c in shipped:
                    top = world.fake.message(c.channel, c.message_ts)
                    if not top.text.startswith(f"{c.carrier_reference}: ✅"):
                        return False
                    if has_quote_buttons(world.fake.message(c.channel, c.quotes_ts)):
                        return False
                return True

            poll("every channel message's final state", settled, timeout, interval=0.05)
            final = time.perf_counter()
            wall = final - began
            wait_jobs_done(bot)
            for agent in people:
                agent.close()
        finally:
            bot.stop()
        calls = Counter(c.method for c in world.fake.calls if c.ok and c.method not in NOT_WEB_API)
        return ScaleResult(
            channels,
            agents,
            len(shipped),
            rate_scale,
            wall,
            calls,
            len(world.fake.ratelimited()),
            click_to_label,
            len(busy),
            click_to_gone,
            sum(1 for c in world.fake.calls if c.method == "response" and c.ok),
            final - max(labelled_at, default=final),
        )


# Issue 27's targets under Slack's limits (throughput only across channels: in one channel
# chat.postMessage's ~1/s per channel binds near 30 a minute).
PER_MINUTE = 45.0
RATELIMITED_SHARE = 0.01
GONE_WITHIN = 2.0  # every click's Choose buttons gone (seconds, real Slack time)
FINAL_WITHIN = 60.0  # every channel message final after the last label


def verdict(r: ScaleResult) -> tuple[str, bool]:
    """The targets this run is held to, and whether it met them."""
    said = [
        f"≤ {RATELIMITED_SHARE:.0%} 429s",
        '0 "busy"',
        f"every Choose gone ≤ {GONE_WITHIN:g} s",
        f"every message final ≤ {FINAL_WITHIN:g} s after the last label",
    ]
    met = (
        r.ratelimited <= RATELIMITED_SHARE * sum(r.calls.values())
        and r.busy_retries == 0
        and max(r.click_to_gone) / r.rate_scale <= GONE_WITHIN
        and r.final_after_last_label / r.rate_scale <= FINAL_WITHIN
    )
    if r.channels > 1:
        said.insert(0, f"≥ {PER_MINUTE:g}/min")
        met = met and r.per_minute >= PER_MINUTE
    return ", ".join(said), met


def rows(results: list[ScaleResult]) -> list[Row]:
    out = []
    for r in results:
        target, met = verdict(r)
        where = "one channel" if r.channels == 1 else f"{r.channels} channels"
        ceiling, binds = r.ceiling()
        calls = ", ".join(f"{m} ×{n:g}" for m, n in r.per_consignment().items())
        total = sum(r.per_consignment().values())
        sped = f", limits ×{r.rate_scale:g} (figures in real minutes)" if r.rate_scale != 1 else ""
        out.append(
            Row(
                "Slack limits: throughput",
                f"{r.consignments} consignments by {r.agents} agents, {where}, Slack's limits "
                f"enforced{sped}",
                f"**{r.per_minute:.1f} consignments/min** sustained against a ceiling of "
                f"{ceiling:.1f}/min ({binds} binds); {total:g} Web API calls a consignment "
                f"({calls}); {r.ratelimited} answered 429; click → label p50 "
                f"{ms(percentile(r.click_to_label, 50) / r.rate_scale)}, max "
                f"{ms(max(r.click_to_label) / r.rate_scale)}; click → Choose buttons gone p50 "
                f"{ms(percentile(r.click_to_gone, 50) / r.rate_scale)}, max "
                f"{ms(max(r.click_to_gone) / r.rate_scale)}; {r.response_posts} response_url "
                "edits; every channel message final "
                f"{r.final_after_last_label / r.rate_scale:.1f} s after the last label"
                + (
                    f"; {r.busy_retries} `/ship` told Slack was busy and typed again"
                    if r.busy_retries
                    else ""
                ),
                target,
                met,
            )
        )
    return out


# results.md's before/after section, written by hand from `python -m benchmarks.slack_scale`
# runs; a full `python -m benchmarks` keeps it.
HEADING = "## Slack limits before and after response_url edits (issue 27)"


def compare_row(label: str, r: ScaleResult) -> str:
    """One line of results.md's before/after table (figures in real Slack time)."""
    per = r.per_consignment()
    return (
        f"| {label} | {r.consignments} by {r.agents} agents, {r.channels} channel(s) | "
        f"{r.per_minute:.1f} | {per.get('chat.update', 0):g} | "
        f"{r.response_posts / r.consignments:g} | "
        f"{ms(percentile(r.click_to_gone, 50) / r.rate_scale)} | "
        f"{ms(max(r.click_to_gone) / r.rate_scale)} | {r.busy_retries} | {r.ratelimited} |"
    )


def main(argv: list[str]) -> int:
    label = argv[0] if argv else "this tree"
    agents, per_agent, channels = (int(a) for a in (argv[1:4] or ["20", "3", "20"]))
    workers = int(argv[4]) if len(argv) > 4 else None  # SHIPBOT_WORKERS (default: the bot's)
    result = measure(agents, per_agent, channels, workers=workers)
    print(compare_row(label, result), flush=True)
    target, met = verdict(result)
    share = result.ratelimited / max(1, sum(result.calls.values()))
    print(
        f"# 429s {share:.1%} of calls; every channel message final "
        f"{result.final_after_last_label / result.rate_scale:.1f} s after the last label; "
        f"targets ({target}): {'met' if met else 'NOT met'}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
