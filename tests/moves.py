"""The suite's walk of the lifecycle table: which moves the bot made while the tests ran.

`conftest.py` starts the recording; at the end of a whole-suite run each row of
bot/lifecycle.py that no test's flow made is reported, and the run fails (`unmade`). Fixtures
that put a consignment at a step walk the table (`walk_to`) without being recorded, so only
moves made by the bot's own flows count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bot import lifecycle
from bot.models import Step
from bot.store.writes import Store

made: set[tuple[Step, Step]] = set()
_quiet = threading.local()


def _record(source: Step, to: Step) -> None:
    if not getattr(_quiet, "on", False):
        made.add((source, to))


def start() -> None:
    lifecycle.listen(_record)


@contextmanager
def unrecorded() -> Iterator[None]:
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


def walk_to(store: Store, cid: int, step: Step) -> None:
    """Put a consignment at `step` by the table's shortest walk (a fixture, not a flow)."""
    here = store.require(cid).step
    with unrecorded():
        for nxt in lifecycle.path(here, step):
            assert store.transition(cid, {here}, nxt), (here, nxt)
            here = nxt


def unmade(seen: Iterable[tuple[Step, Step]]) -> list[str]:
    """The table's moves not in `seen`, as "from -> to: why" lines."""
    done = set(seen)
    return [
        f"{a.value} -> {b.value}: {why}"
        for (a, b), why in lifecycle.MOVES.items()
        if (a, b) not in done
    ]
