"""Shared fixtures: a fake Slack, a sandbox carrier and the real bot, all on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bot.devslack.server import FakeSlack
    from bot.sandbox.server import RunningSandbox
    from tests.harness import BotWith, Harness, Runs
    from tests.wire_server import WireServer


TESTS = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    from tests import moves

    moves.start()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: each worker hands back the lifecycle moves its tests made."""
    from bot.models import Step
    from tests import moves

    for a, b in node.workeroutput.get("moves", []):
        moves.made.add((Step(a), Step(b)))


def _whole_suite(config: pytest.Config) -> bool:
    opt = config.option
    narrowed = (
        opt.keyword or opt.markexpr or opt.maxfail or opt.deselect or getattr(opt, "lf", False)
    )
    return not narrowed and all(Path(a).resolve() == TESTS for a in config.args)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A whole, green run fails if some row of bot/lifecycle.py was never made by a flow."""
    from bot import lifecycle
    from tests import moves

    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput["moves"] = sorted([a.value, b.value] for a, b in moves.made)
        return
    if exitstatus != 0 or not _whole_suite(config):
        return
    missing = moves.unmade(moves.made)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        made = len(lifecycle.MOVES) - len(missing)
        reporter.write_line(f"lifecycle: {made} of {len(lifecycle.MOVES)} moves made by flows")
    if missing:
        lines = ["moves in bot/lifecycle.py that no test's flow made:", *missing]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    from bot.devslack.server import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    from bot.sandbox.server import SandboxConfig, start_sandbox

    with start_sandbox(SandboxConfig(seed=7)) as running:
        yield running


@pytest.fixture
def server() -> Iterator[WireServer]:
    """tests/wire_server.py on loopback: a carrier each test scripts the replies of."""
    from tests.wire_server import WireServer

    with WireServer() as running:
        yield running


@pytest.fixture(scope="module")
def shared_sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """One sandbox for a whole module, seeded by its SANDBOX_SEED, with its SANDBOX_SEED_ORDERS
    consignments made by the webshop (bot/sandbox/seed.py; none if unset); see `fresh_sandbox`."""
    from bot.sandbox.server import SandboxConfig, start_sandbox

    module = request.module
    config = SandboxConfig(
        seed=module.SANDBOX_SEED, seed_orders=getattr(module, "SANDBOX_SEED_ORDERS", 0)
    )
    with start_sandbox(config) as running:
        yield running


@pytest.fixture
def fresh_sandbox(shared_sandbox: RunningSandbox) -> RunningSandbox:
    """The module's one server, reset before each test (fresh state, no faults, empty log)."""
    shared_sandbox.reset()
    return shared_sandbox


@pytest.fixture
def bot_with(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Iterator[BotWith]:
    """`bot_with(**settings)`: the real bot on this test's fake Slack and sandbox, with
    `settings` over the harness's own; each one it starts is stopped after the test."""
    from tests.harness import running_bot

    with ExitStack() as running:

        def start(**settings: Any) -> Harness:
            db = tmp_path / f"shipbot-{len(started)}.db"
            started.append(running.enter_context(running_bot(fake_slack, sandbox, db, **settings)))
            return started[-1]

        started: list[Harness] = []
        yield start


@pytest.fixture
def runs(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Runs:
    """`with runs() as h:` is one run of the bot on this test's database; the next `with`
    restarts it on the same database, as a deploy does."""
    from tests.harness import running_bot

    return partial(running_bot, fake_slack, sandbox, tmp_path / "shipbot.db")


@pytest.fixture
def harness(bot_with: BotWith) -> Harness:
    return bot_with()


LEAD = "U0LEAD001"


@pytest.fixture
def strict(bot_with: BotWith) -> Harness:
    """Roles set: the lead and AGENT2 ship, only the lead cancels, manifests and approves."""
    from tests.harness import AGENT2

    return bot_with(
        shipbot_ship_users=[LEAD, AGENT2],
        shipbot_cancel_users=[LEAD],
        shipbot_manifest_users=[LEAD],
        shipbot_approvers=[LEAD],
    )
