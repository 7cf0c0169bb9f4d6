"""One home for the consignment lifecycle: steps change only through the store's guarded
transition, and every named group of steps comes from its one definition in bot/models.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import lifecycle
from bot.lifecycle import IllegalMove
from bot.models import CLOSED, STEP_GROUPS, Step
from bot.store.writes import Store
from tests import moves
from tests.factories import shipment_request
from tests.moves import walk_to

ROOT = Path(__file__).resolve().parents[1]


def _at(store: Store, step: Step, n: int) -> int:
    cid, _ = store.add_consignment(
        shipment_request(f"SHIP-{n}"),
        channel_id="C1",
        created_by="U1",
        response_url=None,
        view_id=None,
    )
    walk_to(store, cid, step)
    return cid


def test_every_move_in_the_table_is_made_and_every_other_refused(tmp_path: Path) -> None:
    """All 17 x 17 pairs: a row moves (once: compare-and-set), any other raises, moving nothing."""
    store = Store(tmp_path / "s.db")
    n = 0
    for source in Step:
        for to in Step:
            n += 1
            cid = _at(store, source, n)
            if lifecycle.allowed(source, to):
                assert store.transition(cid, {source}, to), (source, to)
                assert store.require(cid).step is to
                if source is not to:
                    assert not store.transition(cid, {source}, to)
            else:
                with pytest.raises(IllegalMove):
                    store.transition(cid, {source}, to)
                assert store.require(cid).step is source, (source, to)


def test_a_move_is_refused_if_any_step_it_may_leave_lacks_the_row(tmp_path: Path) -> None:
    """Checked against the table, not against where the consignment happens to be."""
    store = Store(tmp_path / "s.db")
    cid = _at(store, Step.QUOTED, 0)
    assert not lifecycle.allowed(Step.MANIFESTED, Step.CLAIMED)
    with pytest.raises(IllegalMove):
        store.transition(cid, {Step.QUOTED, Step.MANIFESTED}, Step.CLAIMED)
    assert store.require(cid).step is Step.QUOTED


@pytest.mark.parametrize("name", sorted(STEP_GROUPS))
def test_transition_moves_only_from_the_steps_it_was_given(tmp_path: Path, name: str) -> None:
    """A group's rows to FAILED (or CANCELLED) move only consignments in the group."""
    group = STEP_GROUPS[name]
    store = Store(tmp_path / "s.db")
    target = Step.FAILED if Step.FAILED not in group else Step.CANCELLED
    leaving = {s for s in group if lifecycle.allowed(s, target)}
    if not leaving:
        return
    outside = [s for s in Step if s not in leaving]
    for n, step in enumerate(outside):
        cid = _at(store, step, n)
        assert not store.transition(cid, leaving, target), (name, step)
        assert store.require(cid).step is step  # refused: nothing moved
    for n, step in enumerate(sorted(leaving), start=len(outside)):
        cid = _at(store, step, n)
        assert store.transition(cid, leaving, target), (name, step)
        assert store.require(cid).step is target


def test_a_transition_must_name_the_steps_it_leaves(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    cid = _at(store, Step.NEW, 0)
    with pytest.raises(ValueError):
        store.transition(cid, set(), Step.FAILED)


def test_every_step_is_reached_from_new_and_every_open_step_can_leave() -> None:
    for step in Step:
        if step is not Step.NEW:
            assert lifecycle.path(Step.NEW, step)[-1] is step
        if step not in CLOSED:
            assert lifecycle.targets(step), step


def test_the_suites_walk_reports_a_move_no_flow_made() -> None:
    """The whole-suite check (tests/conftest.py) names each row never made, with its reason."""
    everything = set(lifecycle.MOVES)
    assert moves.unmade(everything) == []
    missing = moves.unmade(everything - {(Step.EXPIRED, Step.CREATED)})
    assert missing == [f"expired -> created: {lifecycle.MOVES[(Step.EXPIRED, Step.CREATED)]}"]


def test_the_readme_draws_the_lifecycle_from_the_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert lifecycle.diagram() in readme, "regenerate: python -m bot.lifecycle"
    assert lifecycle.table() in readme, "regenerate: python -m bot.lifecycle"


def _python_files() -> list[Path]:
    return [
        p
        for folder in ("bot", "handlers", "blocks", "benchmarks")
        for p in (ROOT / folder).rglob("*.py")
    ]


def test_every_step_group_comes_from_its_one_definition() -> None:
    """No literal collection of two or more steps outside bot/models.py: a group named
    there is used by name, so "cancellable" can't mean two things in two modules."""
    offenders = []
    for path in _python_files():
        if path == ROOT / "bot" / "models.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                steps = [
                    e
                    for e in node.elts
                    if isinstance(e, ast.Attribute)
                    and isinstance(e.value, ast.Name)
                    and e.value.id == "Step"
                ]
                if len(steps) >= 2:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_only_the_store_writes_the_step() -> None:
    """The step column is written in one place: Store._move (compare-and-set)."""
    writers = []
    for path in _python_files():
        text = path.read_text()
        for lineno, line in enumerate(text.splitlines(), 1):
            if "SET step" in line or ("step = ?" in line and "UPDATE" in text):
                writers.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert writers and all(w.startswith("bot/store/writes.py") for w in writers), writers
    assert len(writers) == 1, writers
