"""Closed-loop load: N agents, each sending its next request as soon as the last is answered."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence

from benchmarks.rig import BenchmarkFailed, Sent, Signed, http_client, send, start_and_join

Maker = Callable[[], Signed]


def closed_loop(
    url: str,
    makers: Sequence[Maker],
    concurrency: int,
    *,
    then: Callable[[int], None] | None = None,
) -> list[Sent]:
    """Send every request; `makers[i]()` builds request i just before it is timed.

    Built late because a slash command's trigger_id lives 3 s from when Slack issues it.
    Each agent has its own connection, as each Slack delivery does. `then(i)` runs after
    request i is answered, untimed: what the agent waits for before its next request
    (e.g. the modal its /ship opened).
    """
    results: list[Sent | None] = [None] * len(makers)
    failures: list[BaseException] = []
    counter = itertools.count()
    start = threading.Barrier(concurrency)

    def agent() -> None:
        try:
            with http_client() as client:
                start.wait()
                while (i := next(counter)) < len(makers) and not failures:
                    results[i] = send(client, url, makers[i]())
                    if then is not None:
                        then(i)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=agent, name=f"agent-{n}", daemon=True) for n in range(concurrency)
    ]
    start_and_join(threads)
    if failures:
        raise BenchmarkFailed(f"an agent failed: {failures[0]!r}") from failures[0]
    done = [r for r in results if r is not None]
    if len(done) != len(makers):
        raise BenchmarkFailed(f"{len(makers) - len(done)} requests were never sent")
    refused = [r for r in done if r.status != 200]
    if refused:
        sample = refused[0]
        raise BenchmarkFailed(
            f"{len(refused)} of {len(done)} requests to {url} were not answered 200 "
            f"(e.g. {sample.status}: {sample.text[:200]})"
        )
    return done
