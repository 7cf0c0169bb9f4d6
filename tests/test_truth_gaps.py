"""Issue 22: the places where the bot could disagree with the carrier or lose the next step.

Each test drives the real app through signed requests, with the stand-in Slack and the
sandbox carrier on loopback, and provokes the one fault it is about.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.devslack.server import FakeSlack, Message
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from tests.form_states import example_state
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, running_bot, view_shipper_reference

SANDBOX_SEED = 22


@pytest.fixture
def bot(fake_slack: FakeSlack, fresh_sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    fake_slack.add_channel(CHANNEL, name="shipping")
    with running_bot(fake_slack, fresh_sandbox, tmp_path / "shipbot.db") as h:
        yield h


# -- 1. a shipper reference already in use ---------------------------------------------------
def test_a_reused_shipper_reference_is_a_field_error_naming_its_consignment(bot: Harness) -> None:
    first = bot.quoted()
    view = bot.open_form(user=AGENT2)
    assert view_shipper_reference(view) != first.request.shipper_reference
    state = example_state(shipper_reference=first.request.shipper_reference)
    response = bot.driver.submit_view(view, state, user=AGENT2)
    assert response.status_code == 200
    ack = response.json()
    assert ack["response_action"] == "errors", ack
    assert ack["errors"] == {
        "shipper_reference": f"Already used by {first.carrier_reference} in #shipping. "
        "Shipper references are unique: enter another one."
    }
    assert bot.fake.is_open(view["id"]), "the form stays open with what was typed"
    assert bot.store.holder_of_reference(first.request.shipper_reference) == first.id
    assert len(bot.fake.messages(CHANNEL)) == 1
    # The agent changes the reference and the same form goes through.
    again = bot.driver.submit_view(view, example_state(shipper_reference="MINE-2"), user=AGENT2)
    assert again.status_code == 200 and not again.content.strip()
    second = bot.store.find_by_reference("MINE-2")
    assert second is not None
    bot.wait_step(second.id, Step.QUOTED)


def test_a_reused_reference_abroad_is_refused_on_page_one(bot: Harness) -> None:
    first = bot.quoted()
    view = bot.open_form()
    state = example_state(
        shipper_reference=first.request.shipper_reference,
        address_country="FR",
        address_postcode="75001",
        address_town="Paris",
    )
    ack = bot.driver.submit_view(view, state).json()
    assert ack["response_action"] == "errors", ack
    assert "Already used by" in ack["errors"]["shipper_reference"]


def test_a_reference_used_in_a_channel_the_agent_cannot_see_is_not_named(
    bot: Harness,
) -> None:
    bot.fake.add_channel("C0PRIVATE", private=True, name="vip")
    first = bot.quoted(channel="C0PRIVATE")
    view = bot.open_form(user=AGENT2)
    state = example_state(shipper_reference=first.request.shipper_reference)
    ack = bot.driver.submit_view(view, state, user=AGENT2).json()
    text = ack["errors"]["shipper_reference"]
    assert text.startswith("Already used by another consignment.")
    assert "vip" not in text and str(first.carrier_reference) not in text


# -- 2. Slack refusing the one post that carries the next step ------------------------------
def _problem_post(args: dict[str, Any]) -> bool:
    """The failure's thread post (the one with Try again), and no other call."""
    return bool(args.get("thread_ts")) and str(args.get("text", "")).startswith("⚠️")


def _text(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def _label_fails(h: Harness) -> ConsignmentRecord:
    record = h.quoted()
    h.sandbox.arm_fault(r"^/labels/", status=500, count=4)
    h.click_quote(record)
    return record


def _try_again(h: Harness, record: ConsignmentRecord) -> None:
    assert record.message_ts
    post = h.fake.thread(record.channel_id, record.message_ts)[-1]
    assert "Try again" in _text(post), _text(post)
    response = h.driver.click(record.channel_id, post.ts, "try_again", str(record.id))
    assert response.status_code == 200
    h.wait_step(record.id, Step.UPLOADED)
    assert h.allocations_at_carrier() == 1


def test_a_429_on_the_failure_post_delays_it_and_nothing_points_at_it_meanwhile(
    bot: Harness,
) -> None:
    h = bot
    h.fake.ratelimit_next("chat.postMessage", retry_after=1, which=_problem_post)
    record = _label_fails(h)
    h.wait(lambda: bool(h.fake.ratelimited()))
    failed = h.store.require(record.id)
    assert failed.step is Step.FAILED and failed.message_ts
    h.wait(lambda: "❌" in _text(h.fake.message(CHANNEL, failed.message_ts or "")))
    channel = _text(h.fake.message(CHANNEL, failed.message_ts))
    assert "See the thread" not in channel and "Posting the next step" in channel
    assert "Try again" not in _text(h.fake.thread(CHANNEL, failed.message_ts)[-1])
    # After Retry-After the post goes in, and only then does the channel point at it.
    h.wait(lambda: "Try again" in _text(h.fake.thread(CHANNEL, failed.message_ts or "")[-1]))
    h.wait(lambda: "See the thread" in _text(h.fake.message(CHANNEL, failed.message_ts or "")))
    _try_again(h, failed)


def test_a_5xx_on_the_failure_post_is_retried_after_a_restart(
    fake_slack: FakeSlack, fresh_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "restart.db"
    fake_slack.fail_next("chat.postMessage", "503", which=_problem_post, count=3)
    with running_bot(fake_slack, fresh_sandbox, db) as h:
        record = _label_fails(h)
        h.wait(lambda: any(c.error == "503" for c in fake_slack.calls))
        # Stopped at once: the post is still owed (Slack keeps failing it meanwhile).
    assert not any(_problem_post(c.args) and c.ok for c in fake_slack.calls)
    fake_slack.clear_faults()  # Slack is back
    with running_bot(fake_slack, fresh_sandbox, db) as h:
        failed = h.store.require(record.id)
        assert failed.message_ts
        h.wait(lambda: "Try again" in _text(h.fake.thread(CHANNEL, failed.message_ts or "")[-1]))
        h.wait(lambda: "See the thread" in _text(h.fake.message(CHANNEL, failed.message_ts or "")))
        _try_again(h, failed)


def test_a_post_slack_refuses_for_good_puts_try_again_on_the_channel_message(
    bot: Harness,
) -> None:
    h = bot
    h.fake.fail_next("chat.postMessage", "invalid_blocks", which=_problem_post)
    record = _label_fails(h)
    h.wait_step(record.id, Step.FAILED)
    ts = h.store.require(record.id).message_ts or ""
    h.wait(lambda: "Try again" in _text(h.fake.message(CHANNEL, ts)))
    assert "See the thread" not in _text(h.fake.message(CHANNEL, ts))
    response = h.driver.click(CHANNEL, ts, "try_again", str(record.id))
    assert response.status_code == 200
    h.wait_step(record.id, Step.UPLOADED)


# -- 4. the carrier's manifest query takes a consignment whose label step failed -----------
def test_a_manifest_that_takes_a_label_failed_consignment_tells_its_thread(bot: Harness) -> None:
    h = bot
    ready = h.quoted()
    h.click_quote(ready)
    h.wait_step(ready.id, Step.UPLOADED)
    failed = _label_fails(h)
    failed = h.wait_step(failed.id, Step.FAILED)
    assert failed.allocation is not None and failed.message_ts
    assert h.driver.command("manifest", user=AGENT).status_code == 200
    h.wait_step(ready.id, Step.MANIFESTED)
    # The summary counts what the carrier queued: both.
    h.wait(lambda: any("Queued 2 consignments" in m.text for m in h.fake.messages(CHANNEL)))
    status = h.bot.carrier.get_consignment(failed.carrier_reference or "")
    assert status.state.value == "Manifested"
    # Its thread learns it, with Try again for the label it still owes.
    h.wait(
        lambda: (
            "Manifested with the carrier"
            in _text(h.fake.thread(CHANNEL, failed.message_ts or "")[-1])
        )
    )
    assert "✅" not in h.fake.message(CHANNEL, failed.message_ts).text
    post = h.fake.thread(CHANNEL, failed.message_ts)[-1]
    assert h.driver.click(CHANNEL, post.ts, "try_again", str(failed.id)).status_code == 200
    done = h.wait_step(failed.id, Step.MANIFESTED)
    assert done.manifested_at is not None
    h.wait(lambda: "✅ Manifested" in h.fake.message(CHANNEL, failed.message_ts or "").text)
    comment = [f for f in h.fake.files if f.title.startswith(failed.carrier_reference or "-")]
    assert comment, "the label reached the thread"
    label_post = h.fake.thread(CHANNEL, failed.message_ts)[-1]
    assert "Manifested" in label_post.text
    assert "cancel" not in _text(label_post).lower(), "no Cancel after the manifest"


# -- 3. a database lock longer than the busy timeout in the middle of a step ----------------
LOCKED_TIMEOUT = 0.3  # SHIPBOT_DB_BUSY_TIMEOUT for these tests: a lock test takes a second


@pytest.fixture
def locked_bot(
    fake_slack: FakeSlack, fresh_sandbox: RunningSandbox, tmp_path: Path
) -> Iterator[Harness]:
    with running_bot(
        fake_slack,
        fresh_sandbox,
        tmp_path / "shipbot.db",
        shipbot_db_busy_timeout=LOCKED_TIMEOUT,
        shipbot_sweep_every=0.2,
    ) as h:
        yield h


@contextmanager
def another_program_locks(db: str) -> Iterator[sqlite3.Connection]:
    """A second connection (a backup, a sqlite3 shell) holding the write lock."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _allocating(h: Harness) -> int:
    """A click whose allocate is at the (slow) carrier: its reply comes back in 0.5 s."""
    record = h.quoted()
    h.sandbox.arm_fault(r"^/allocation/", method="PUT", kind="latency", seconds=0.5)
    h.click_quote(record)
    h.wait(lambda: h.allocations_at_carrier() == 1)
    return record.id


def test_a_lock_longer_than_the_busy_timeout_mid_allocate_is_retried(locked_bot: Harness) -> None:
    h = locked_bot
    cid = _allocating(h)
    with another_program_locks(h.settings.shipbot_db):
        assert h.store.require(cid).step is Step.ALLOCATING
        time.sleep(1.0)  # the allocate's reply comes back to a locked database
    done = h.wait_step(cid, Step.UPLOADED)
    assert h.allocations_at_carrier() == 1, "looked up on retry, never allocated twice"
    assert done.allocation is not None
    assert h.fake.files, "the label reached the thread"


def test_a_consignment_in_flight_with_no_job_behind_it_is_swept_up(locked_bot: Harness) -> None:
    h = locked_bot
    record = h.quoted()
    # What the old runner left when a job raised: the claim recorded, its job given up.
    with sqlite3.connect(h.settings.shipbot_db, isolation_level=None) as conn:
        conn.execute(
            "UPDATE consignments SET step = 'claimed', claimed_by = ?, claimed_quote = ? "
            "WHERE id = ?",
            (AGENT2, record.quotes[0].reference, record.id),
        )
    conn.close()
    done = h.wait_step(record.id, Step.UPLOADED)
    assert done.allocation is not None and h.allocations_at_carrier() == 1
    assert any(e.action == "sweep" for e in h.store.audit_log(record.id))


# -- the consignment's buttons act only from its own channel ---------------------------------
OTHER = "C0OTHER01"


def _click_elsewhere(h: Harness, record: ConsignmentRecord, action_id: str, value: str) -> None:
    """The button pressed on a copy of the message shared into another channel, by
    someone who did not work on the consignment."""
    assert record.quotes_ts
    message = h.fake.message(CHANNEL, record.quotes_ts)
    action = {"action_id": action_id, "block_id": "b", "type": "button", "value": value}
    payload = h.driver._message_click(
        OTHER, record.quotes_ts, None, AGENT2, action, message=message
    )
    assert h.driver._deliver(payload).status_code == 200


def test_buttons_pressed_from_another_channel_change_nothing(bot: Harness) -> None:
    h = bot
    h.fake.add_channel(OTHER, name="general")
    record = h.quoted()
    for n, action_id in enumerate(["choose_quote", "try_again", "requote", "approve", "decline"]):
        value = str(record.id)
        if action_id == "choose_quote":
            value += f":{record.quotes[0].reference}"
        _click_elsewhere(h, record, action_id, value)
        h.wait(
            lambda n=n: (
                len([e for e in h.fake.ephemerals if e.user == AGENT2 and "can't find" in e.text])
                > n
            )
        )
        assert h.store.require(record.id).step is Step.QUOTED, action_id
    assert h.allocations_at_carrier() == 0


# -- `shipbot backup` refuses what is not a shipbot database ----------------------------------
def _backup(monkeypatch: pytest.MonkeyPatch, db: Path, copy: Path) -> int:
    from bot.cli import main

    for name in ("SLACK_APP_TOKEN", "ELECTIO_API_KEY", "SHIPBOT_CARRIER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SHIPBOT_DB", str(db))
    return main(["backup", str(copy)])


def test_backup_refuses_a_missing_or_foreign_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy.db"
    missing = tmp_path / "wrong-folder" / "shipbot.db"
    (tmp_path / "wrong-folder").mkdir()
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    for db, why in (
        (missing, "does not exist"),
        (not_sqlite, "is not a SQLite database"),
        (foreign, "is not a shipbot database"),
    ):
        assert _backup(monkeypatch, db, copy) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and why in err, err
        assert not copy.exists()
    assert not missing.exists(), "refusing created nothing"
    assert foreign.stat().st_size > 0
    from bot.store.writes import Store

    Store(tmp_path / "real.db").close()
    assert _backup(monkeypatch, tmp_path / "real.db", copy) == 0
    assert copy.exists()


# -- a sandbox carrier can't be mistaken for shipping -----------------------------------------
def test_every_message_from_a_sandbox_bot_says_sandbox(bot: Harness) -> None:
    h = bot
    assert h.settings.carrier_is_sandbox  # ELECTIO_API_URL at our sandbox, no key
    record = h.quoted()
    assert record.message_ts and record.quotes_ts
    assert "SANDBOX" in _text(h.fake.message(CHANNEL, record.message_ts))
    assert "SANDBOX" in _text(h.fake.message(CHANNEL, record.quotes_ts))
    h.click_quote(record)
    h.wait_step(record.id, Step.UPLOADED)
    assert "SANDBOX" in _text(h.fake.message(CHANNEL, record.message_ts))
    label = h.fake.thread(CHANNEL, record.message_ts)[-1]
    assert "nothing is shipped" in label.text


def test_shipbot_carrier_sorted_without_a_key_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    for name in ("ELECTIO_API_KEY", "ELECTIO_API_URL", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("SHIPBOT_DB", str(tmp_path / "shipbot.db"))
    monkeypatch.setenv("SHIPBOT_CARRIER", "sorted")
    assert main(["serve", "--http", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ELECTIO_API_KEY" in err, err


def test_shipbot_carrier_chooses_the_carrier() -> None:
    from bot.settings import CarrierMode, Settings

    def settings(**env: str) -> Settings:
        return Settings(_env_file=None, **env)  # type: ignore[call-arg]

    assert settings().carrier_mode is CarrierMode.LOCAL_SANDBOX  # unset: today's default
    keyed = settings(electio_api_key="k")
    assert keyed.carrier_mode is CarrierMode.SORTED and not keyed.carrier_is_sandbox
    forced = settings(electio_api_key="k", shipbot_carrier="sandbox")
    assert forced.carrier_mode is not CarrierMode.SORTED and forced.carrier_is_sandbox
    sorted_sandbox = settings(
        electio_api_key="k", electio_api_url="https://apisandbox.electioapp.com"
    )
    assert sorted_sandbox.carrier_mode is CarrierMode.SORTED and sorted_sandbox.carrier_is_sandbox
    production = settings(shipbot_carrier="sorted", electio_api_key="k")
    assert not any("SHIPBOT_CARRIER" in p for p in production.problems("serve-http"))
    keyless = settings(shipbot_carrier="sorted").problems("serve-http")
    assert any(p.startswith("ELECTIO_API_KEY is not set") for p in keyless)
