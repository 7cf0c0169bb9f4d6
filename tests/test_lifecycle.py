"""One home for the consignment lifecycle: steps change only through the store's guarded
transition, and every named group of steps comes from its one definition in bot/models.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.models import STEP_GROUPS, Step
from bot.store.writes import Store
from tests.factories import shipment_request

ROOT = Path(__file__).resolve().parents[1]


def _at(store: Store, step: Step, n: int) -> int:
    cid, _ = store.add_consignment(
        shipment_request(f"SHIP-{n}"),
        channel_id="C1",
        created_by="U1",
        response_url=None,
        view_id=None,
    )
    if step is not Step.NEW:
        assert store.transition(cid, {Step.NEW}, step)
    return cid


@pytest.mark.parametrize("name", sorted(STEP_GROUPS))
def test_transition_moves_only_from_the_steps_it_was_given(tmp_path: Path, name: str) -> None:
    group = STEP_GROUPS[name]
    store = Store(tmp_path / "s.db")
    target = Step.FAILED if Step.FAILED not in group else Step.CANCELLED
    outside = [s for s in Step if s not in group]
    for n, step in enumerate(outside):
        cid = _at(store, step, n)
        assert not store.transition(cid, group, target), (name, step)
        assert store.require(cid).step is step  # refused: nothing moved
    for n, step in enumerate(sorted(group), start=len(outside)):
        cid = _at(store, step, n)
        assert store.transition(cid, group, target), (name, step)
        assert store.require(cid).step is target
        # The same move again is refused: it already left the group (compare-and-set).
        assert not store.transition(cid, group, target) or target in group


def test_a_transition_must_name_the_steps_it_leaves(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    cid = _at(store, Step.NEW, 0)
    with pytest.raises(ValueError):
        store.transition(cid, set(), Step.FAILED)


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
