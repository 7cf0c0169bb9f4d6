"""The consignment lifecycle as data: every move a step may make, and why it exists.

`Store._move` (the store's one transition) refuses any move that is not a row here, so the
table is the whole truth about which moves exist. A new step or move is a new row in `RULES`;
the README's diagram is drawn from it (`diagram()`, checked by tests/test_lifecycle.py), and the
test suite checks that each row is made by some flow.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from bot.models import (
    CANCELLABLE,
    FIXABLE,
    IN_FLIGHT,
    MANIFEST_HOLD,
    MANIFESTABLE,
    NEEDS_AGENT,
    RESHIPPABLE,
    TAKES_CLICKS,
    Step,
)


@dataclass(frozen=True)
class Rule:
    """One row: from each of `sources` to each of `targets`, for the reason `why`."""

    sources: frozenset[Step]
    targets: frozenset[Step]
    why: str


def _rule(sources: Step | Collection[Step], targets: Step | Collection[Step], why: str) -> Rule:
    def steps(x: Step | Collection[Step]) -> frozenset[Step]:
        return frozenset({x} if isinstance(x, Step) else x)

    return Rule(steps(sources), steps(targets), why)


BACK_FROM_CANCEL = CANCELLABLE - {Step.CANCELLING}

# fmt: off
RULES: tuple[Rule, ...] = (
    # -- the Quotes flow -------------------------------------------------------------------
    _rule(Step.NEW, Step.CREATING, "the form is stored; the carrier's create is next"),
    _rule(Step.CREATING, Step.CREATED, "the carrier created it (its reference is stored)"),
    _rule(Step.CREATED, Step.QUOTING, "quotes are asked for"),
    _rule(Step.QUOTING, Step.QUOTED, "the quotes are in the thread, waiting for a click"),
    _rule(TAKES_CLICKS, Step.CLAIMED, "a click claimed a quote (the first click wins)"),
    _rule(TAKES_CLICKS, Step.AWAITING_APPROVAL, "the clicked quote is above the approval limit"),
    _rule(TAKES_CLICKS, Step.EXPIRED, "the clicked quote had expired: refused before any call"),
    _rule(Step.AWAITING_APPROVAL, Step.CLAIMED, "an approver approved the claim"),
    _rule(Step.AWAITING_APPROVAL, Step.QUOTED, "the claim was declined: the quotes are free"),
    _rule(Step.AWAITING_APPROVAL, Step.EXPIRED, "the quotes expired before the decision"),
    _rule(Step.CLAIMED, Step.ALLOCATING, "the allocate's deadline is recorded before the call"),
    _rule(Step.ALLOCATING, Step.ALLOCATED, "the carrier allocated (said so, or a lookup shows)"),
    _rule(Step.ALLOCATING, Step.EXPIRED, "the carrier said the quote expired: nothing bought"),
    _rule(Step.ALLOCATING, Step.CREATED, "the claim names a quote we no longer hold: re-quote"),
    _rule(Step.ALLOCATED, Step.LABEL_SAVED, "the label (and customs documents) are stored"),
    _rule(Step.LABEL_SAVED, Step.UPLOADED, "the documents are in the thread"),
    _rule(Step.LABEL_SAVED, Step.MANIFESTED,
          "a manifest took it while its label was on its way; the upload is done"),
    _rule(Step.EXPIRED, Step.CREATED, "Re-quote: fresh quotes for the same consignment"),
    # -- failure and Try again ---------------------------------------------------------------
    _rule(IN_FLIGHT, Step.FAILED,
          "the work owed failed (carrier, Slack, or retries ran out): said, with Try again"),
    _rule(Step.FAILED, IN_FLIGHT,
          "Try again resumes where it stopped; a corrected form goes back to create"),
    # -- ship with another service -----------------------------------------------------------
    _rule(RESHIPPABLE, Step.REQUOTING, "Ship with another service: quotes for a booked one"),
    _rule(Step.REQUOTING, Step.REQUOTED, "the other services are in the thread beside the booking"),
    _rule(Step.REQUOTING, Step.CREATED, "the carrier shows it free already: quoted the usual way"),
    _rule(Step.REQUOTED, Step.REQUOTING, "the clicked quote had expired: fresh quotes"),
    _rule(Step.REQUOTED, Step.RELEASING, "a click on the list: the booking is released first"),
    _rule(Step.RELEASING, Step.CLAIMED, "the carrier released the booking: the click allocates"),
    # -- fix the address ---------------------------------------------------------------------
    _rule(FIXABLE, Step.UPDATING, "Fix the address: the new destination goes to the carrier"),
    _rule(Step.UPDATING, Step.CREATED, "the carrier kept the new address: fresh quotes"),
    # -- the manifest ------------------------------------------------------------------------
    _rule(MANIFESTABLE, Step.MANIFESTING, "/ship manifest holds it while the carrier's call runs"),
    _rule(MANIFEST_HOLD, Step.MANIFESTED, "the carrier confirmed the manifest"),
    _rule(MANIFEST_HOLD, Step.UPLOADED, "the manifest failed or left it out: released"),
    _rule(MANIFESTABLE, Step.MANIFESTED, "a lookup found it manifested at the carrier"),
    _rule(Step.FAILED, Step.FAILED,
          "the carrier manifested it while its label had failed: the problem now says so"),
    # -- cancel ------------------------------------------------------------------------------
    _rule(CANCELLABLE, Step.CANCELLING,
          "cancel holds it while the carrier's call runs (a half-done cancel is taken up)"),
    _rule(Step.CANCELLING, Step.CANCELLED, "the carrier cancelled it (said so, or a lookup shows)"),
    _rule(Step.CANCELLING, Step.MANIFESTED, "the carrier manifested it before the cancel"),
    _rule(Step.CANCELLING, BACK_FROM_CANCEL,
          "the cancel did not happen: back where it was (a dead hold: to the nearest rest)"),
    _rule(NEEDS_AGENT | MANIFESTABLE | MANIFEST_HOLD, Step.CANCELLED,
          "a lookup shows it was cancelled outside shipbot"),
)
# fmt: on


def _pairs(rules: Iterable[Rule]) -> dict[tuple[Step, Step], str]:
    found: dict[tuple[Step, Step], str] = {}
    for rule in rules:
        for source in rule.sources:
            for to in rule.targets:
                if (source, to) in found:
                    raise ValueError(f"{source.value} -> {to.value} is in two rules")
                found[(source, to)] = rule.why
    return found


# (from, to) → why: the moves the store allows.
MOVES: dict[tuple[Step, Step], str] = _pairs(RULES)


class IllegalMove(ValueError):
    """A transition the lifecycle table does not have: a bug in the caller, never a race."""


def allowed(source: Step, to: Step) -> bool:
    return (source, to) in MOVES


def check(leaving: Collection[Step], to: Step) -> None:
    """Raise unless every step in `leaving` may move to `to`."""
    if not leaving:
        raise IllegalMove("a transition names the steps it may leave")
    wrong = sorted(s.value for s in leaving if (s, to) not in MOVES)
    if wrong:
        raise IllegalMove(f"no move from {', '.join(wrong)} to {to.value} in bot/lifecycle.py")


def targets(source: Step) -> list[Step]:
    """Where `source` may go, in the order of the Step enum."""
    return [to for to in Step if (source, to) in MOVES]


def path(source: Step, to: Step) -> list[Step]:
    """The shortest walk of allowed moves from `source` to `to` (excluding `source`)."""
    before: dict[Step, Step] = {}
    queue = deque([source])
    while queue:
        step = queue.popleft()
        if step is to and step is not source:
            break
        for nxt in targets(step):
            if nxt not in before and nxt is not source:
                before[nxt] = step
                queue.append(nxt)
    if to is source:
        return []
    if to not in before:
        raise IllegalMove(f"no walk from {source.value} to {to.value}")
    walk = [to]
    while walk[-1] in before and before[walk[-1]] is not source:
        walk.append(before[walk[-1]])
    return walk[::-1]


# Who wants to hear about each move made (a metric, the test suite's walk of the table).
_listeners: list[Callable[[Step, Step], None]] = []


def listen(listener: Callable[[Step, Step], None]) -> None:
    _listeners.append(listener)


def moved(source: Step, to: Step) -> None:
    """Called by the store after each move it made."""
    for listener in _listeners:
        listener(source, to)


def diagram() -> str:
    """The lifecycle as a Mermaid state diagram, one arrow per allowed move (for the README)."""
    lines = ["```mermaid", "stateDiagram-v2", "    [*] --> new"]
    for source in Step:
        for to in targets(source):
            lines.append(f"    {source.value} --> {to.value}")
    lines += ["    manifested --> [*]", "    cancelled --> [*]", "```"]
    return "\n".join(lines)


def table() -> str:
    """The rows as a Markdown table, each with its reason (for the README)."""
    lines = ["| From | To | Why |", "|---|---|---|"]
    for rule in RULES:
        sources = ", ".join(s.value for s in Step if s in rule.sources)
        targets_ = ", ".join(s.value for s in Step if s in rule.targets)
        lines.append(f"| {sources} | {targets_} | {rule.why} |")
    return "\n".join(lines)


BEGIN = "<!-- lifecycle: drawn from bot/lifecycle.py by `python -m bot.lifecycle` -->"
END = "<!-- /lifecycle -->"


def readme_section() -> str:
    return "\n\n".join([BEGIN, diagram(), table(), END])


def rewrite_readme(text: str) -> str:
    """`text` with its lifecycle section replaced by the one drawn from the table now."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + readme_section() + tail


if __name__ == "__main__":
    from pathlib import Path

    readme = Path(__file__).resolve().parents[1] / "README.md"
    readme.write_text(rewrite_readme(readme.read_text()))
