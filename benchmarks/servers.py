"""Acks before and after the production server, in one run: HTTP mode on the stdlib server it
ran on until issue 28 (wsgiref's WSGIServer with a thread per request) and on waitress (now),
shipbot and bare Bolt on each.

`python -m benchmarks.servers` takes the old server's module out of git history (BEFORE),
into a temporary folder outside the project with a `sitecustomize` that makes
`bot.slack.http.make_http_server` build that server around today's `SlackWSGI` (the same
routing, body limit and Bolt adapter: only the server differs), and puts the folder first on
the app processes' PYTHONPATH. The `Server` header each one answers with is reported, so
the table says which server really answered. The figures replace this section of
benchmarks/results.md (a full `python -m benchmarks` run keeps it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import acks
from benchmarks.procs import start_bare_bolt
from benchmarks.report import machine, ms, percentile, splice
from benchmarks.rig import SECRET, BenchmarkFailed, loopback, shipbot_on

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results.md")
HEADING = "## Acks before and after the production server"
# The last commit whose bot/slack/http.py is the stdlib server (the next one, bf3a85d, is
# "HTTP mode on waitress with Bolt's WSGI adapter (was the stdlib server)").
BEFORE_COMMIT = "3aef0a7fa8620060ffaeaf0f4b3ef4581a4e9e1b"
BEFORE_MODULE = "bot/slack/http.py"
LEVELS = ((1, 100), (20, 400))
WARMUP = 20
ROUNDS = 2
BEFORE, NOW = "stdlib (before)", "waitress"

_GLUE = '''"""benchmarks/servers.py: HTTP mode on the stdlib server of BEFORE_COMMIT."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "shipbot_before_http", os.path.join(os.path.dirname(__file__), "before_http.py")
)
_before = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_before)

import bot.slack.http as _now


def _make_http_server(app, host, port, ops=None):
    return _before.make_server(
        host,
        port,
        _now.SlackWSGI(app, ops),
        server_class=_before.ThreadingWSGIServer,
        handler_class=_before.QuietHandler,
    )


_now.make_http_server = _make_http_server
'''


@dataclass(frozen=True)
class Run:
    server: str
    answered_by: str  # the Server header
    agents: int
    round: int
    latencies: list[acks.Latencies]

    def kind(self, app: str, kind: str) -> acks.Latencies:
        return next(r for r in self.latencies if r.app == app and r.kind == kind)


@contextmanager
def before_server(root: Path = ROOT) -> Iterator[Path]:
    """A folder outside the project holding the old server and the glue that swaps it in."""
    source = subprocess.run(
        ["git", "-C", str(root), "show", f"{BEFORE_COMMIT}:{BEFORE_MODULE}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="shipbot-before-server-"))
    try:
        (folder / "before_http.py").write_text(source, encoding="utf-8")
        (folder / "sitecustomize.py").write_text(_GLUE, encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def apps_path(folder: Path | None) -> Iterator[None]:
    """App processes started meanwhile get `folder` first on PYTHONPATH (None: as is)."""
    old = os.environ.get("PYTHONPATH")
    if folder is not None:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), old) if p)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def server_header() -> str:
    """What the app processes started now answer in `Server` (shipbot's and bare Bolt's
    /healthz): both must be on the server the row is named after."""
    with loopback() as world:
        said = set()
        for app in (
            shipbot_on(world),
            start_bare_bolt(slack_url=world.fake.url, secret=SECRET, workdir=world.workdir),
        ):
            with app:
                said.add(httpx.get(app.base + "/healthz", trust_env=False).headers.get("server"))
    if len(said) != 1:
        raise BenchmarkFailed(f"shipbot and bare Bolt answered from different servers: {said}")
    return str(said.pop())


def measure(
    levels: Sequence[tuple[int, int]] = LEVELS,
    warmup: int = WARMUP,
    *,
    rounds: int = ROUNDS,
    say: bool = True,
) -> list[Run]:
    """Each level on each server, `rounds` times, alternating: drift on a shared machine
    falls on both servers alike."""
    runs: list[Run] = []
    with before_server() as folder:
        servers: list[tuple[str, Path | None]] = [(BEFORE, folder), (NOW, None)]
        for agents, n in levels:
            for round_ in range(1, rounds + 1):
                for name, path in servers if round_ % 2 else servers[::-1]:
                    if say:
                        print(
                            f"  … {name}: {agents} agent(s), n={n}, round {round_}",
                            file=sys.stderr,
                            flush=True,
                        )
                    with apps_path(path):
                        header = server_header()
                        latencies = acks.measure(agents, n, warmup)
                    runs.append(Run(name, header, agents, round_, latencies))
    return runs


def document(runs: Sequence[Run], *, began: float, seconds: float, load: str) -> str:
    lines = [
        HEADING,
        "",
        "`python -m benchmarks.servers`: the ack benchmark above (same payloads, bare Bolt",
        "beside shipbot on the same server, carrier at zero latency) run on both servers in one",
        "run. Before: the stdlib server HTTP mode ran on until issue 28 (wsgiref's WSGIServer,",
        f"a thread per request; `git show {BEFORE_COMMIT[:7]}:{BEFORE_MODULE}`), swapped in for",
        "the run from outside the project around today's request handling. Now: waitress",
        "(bot/slack/http.py). Server = the `Server` header the processes answered with.",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(began))}. "
        "Machine: " + "; ".join(machine()),
        f"Run took {seconds:.0f} s; load average (1 min) {load}: the machine is shared, so",
        "compare the rows of one run, not runs.",
        "",
        "| Request | Agents | Server | Round | shipbot p50 | shipbot p99 | bare Bolt p50 "
        "| bare Bolt p99 | p99 ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for agents, kind, level in _levels(runs):
        for run in sorted(level, key=_by_server):
            ours, bare = run.kind("shipbot", kind), run.kind("bare Bolt", kind)
            lines.append(
                f"| {kind} | {agents} | {run.server} (`{run.answered_by}`) | {run.round} "
                f"| {ms(ours.p50)} | {ms(ours.p99)} | {ms(bare.p50)} | {ms(bare.p99)} "
                f"| {ours.p99 / bare.p99:.2f}× |"
            )
    lines += [
        "",
        "Pooled over the rounds (every ack of a request kind on one server, both rounds):",
        "",
        "| Request | Agents | shipbot before p50 / p99 | shipbot now p50 / p99 "
        "| bare Bolt before p50 / p99 | bare Bolt now p50 / p99 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for agents, kind, level in _levels(runs):
        cells = [
            _pooled([r for r in level if r.server == server], app, kind)
            for app in ("shipbot", "bare Bolt")
            for server in (BEFORE, NOW)
        ]
        lines.append(f"| {kind} | {agents} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _levels(runs: Sequence[Run]) -> Iterator[tuple[int, str, list[Run]]]:
    """(agents, request kind, the runs at that many agents), in table order."""
    for agents in sorted({r.agents for r in runs}):
        for kind in acks.KINDS:
            yield agents, kind, [r for r in runs if r.agents == agents]


def _pooled(runs: Sequence[Run], app: str, kind: str) -> str:
    seconds = [s for run in runs for s in run.kind(app, kind).seconds]
    return f"{ms(percentile(seconds, 50))} / {ms(percentile(seconds, 99))}"


def _by_server(run: Run) -> tuple[str, int]:
    return run.server, run.round


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny numbers: a smoke run")
    parser.add_argument(
        "--out", default=None, help=f"file whose section to replace (default {RESULTS}; - none)"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    args = parser.parse_args(argv)
    levels, warmup = (((2, 3),), 1) if args.quick else (LEVELS, WARMUP)
    began, start = time.time(), time.monotonic()
    load_before = os.getloadavg()[0]
    runs = measure(levels, warmup, rounds=1 if args.quick else args.rounds)
    load = f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    text = document(runs, began=began, seconds=time.monotonic() - start, load=load)
    print(text)
    out = args.out if args.out is not None else ("-" if args.quick else str(RESULTS))
    if out != "-":
        path = Path(out)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(splice(old, HEADING, text), encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
