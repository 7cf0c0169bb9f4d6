"""The bot as a real process: a deploy restart mid-allocate, a second `serve` on the same
database, a database that isn't one, and a backup taken while serving."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.devslack.driver import SlackDriver
from bot.devslack.server import FakeSlack
from bot.models import Step
from bot.sandbox.server import RunningSandbox
from bot.store.writes import Store
from tests.harness import CHANNEL, SECRET
from tests.test_restart import _wait, choose_while_stalled, serve, ship_quoted

ALLOCATE = r"^/allocation/"


def _shipbot(args: list[str], db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ELECTIO_"))}
    clean.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SHIPBOT_DB": str(db),
            "ELECTIO_API_URL": "http://127.0.0.1:9",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_sigterm_mid_allocate_then_the_allocate_lands_after_the_restart(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A deploy restart while the carrier is still allocating: the new process looks until
    the old request could no longer land, finds it allocated, and never says "Nothing was
    bought"; the store keeps what the carrier shows, not a guess."""
    db = tmp_path / "deploy.db"
    timeouts = {"ELECTIO_READ_TIMEOUT": "6", "ELECTIO_CONNECT_TIMEOUT": "1"}
    with serve(fake_slack, sandbox, db, SHIPBOT_STOP_GRACE="0.2", **timeouts) as (process, url):
        driver = SlackDriver(url, SECRET, fake_slack)
        store = Store(db)
        record = ship_quoted(driver, fake_slack, store)
        choose_while_stalled(driver, sandbox, record, ALLOCATE, seconds=2.5)
        _wait(lambda: sandbox.count("PUT", ALLOCATE) == 1)  # the allocate is at the carrier
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0]
        driver.close()
    assert process.returncode == 0, output
    assert "job(s) left for the next start" in output and "Traceback" not in output
    assert store.require(record.id).step is Step.ALLOCATING  # recorded where it stood

    with serve(fake_slack, sandbox, db, **timeouts):
        _wait(lambda: store.require(record.id).step is Step.UPLOADED, timeout=20)
    done = store.require(record.id)
    assert sandbox.count("PUT", ALLOCATE) == 1  # never a second allocate
    assert done.allocation is not None
    assert done.allocation.service_name == record.quotes[0].service_name  # the one clicked
    assert done.allocation.tracking_numbers
    outcomes = [e.outcome for e in store.audit_log(record.id) if e.action == "allocate"]
    assert outcomes == ["ok (lookup)"]
    assert done.message_ts
    thread = fake_slack.thread(CHANNEL, done.message_ts)
    assert not any("Nothing was bought" in (m.text + str(m.blocks)) for m in thread)
    store.close()


def test_a_second_serve_on_the_same_database_is_refused(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "one.db"
    with serve(fake_slack, sandbox, db) as (first, _url):
        second = _shipbot(
            ["serve", "--http", "--port", "0"],
            db,
            SLACK_API_URL=fake_slack.url,
            ELECTIO_API_URL=sandbox.url,
        )
        assert second.returncode == 2, second.stdout + second.stderr
        assert "SHIPBOT_DB" in second.stderr and "in use by another shipbot" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one keeps serving


def test_a_bad_database_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, just some bytes " * 200)
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    missing = tmp_path / "no-such-folder" / "x.db"
    cases = {
        garbage: "not a SQLite database",
        folder: "is a directory",
        newer: "newer shipbot",
        missing: "does not exist",
    }
    # One as a real process (no traceback reaches the terminal) ...
    result = _shipbot(["serve", "--http", "--port", "0"], garbage)
    assert result.returncode == 2, (result.stdout, result.stderr)
    problem = [line for line in result.stderr.splitlines() if "SHIPBOT_DB" in line]
    assert len(problem) == 1 and cases[garbage] in problem[0], result.stderr
    assert "Traceback" not in result.stderr
    # ... and every case through the same entry point, in this process (faster).
    for db, said in cases.items():
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test-token",  # `serve` takes it out of the environment
            "SLACK_SIGNING_SECRET": SECRET,
            "ELECTIO_API_URL": "http://127.0.0.1:9",
            "SHIPBOT_DB": str(db),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert main(["serve", "--http", "--port", "0"]) == 2, db
        err = capsys.readouterr().err
        problem = [line for line in err.splitlines() if "SHIPBOT_DB" in line]
        assert len(problem) == 1 and said in problem[0], err


def test_backup_while_serving_is_a_consistent_copy(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "live.db"
    copy = tmp_path / "copy.db"
    with serve(fake_slack, sandbox, db) as (_process, url):
        driver = SlackDriver(url, SECRET, fake_slack)
        store = Store(db)
        reference = ship_quoted(driver, fake_slack, store).request.shipper_reference
        result = _shipbot(["backup", str(copy)], db)
        driver.close()
    assert result.returncode == 0, result.stderr
    assert f"copied {db}" in result.stdout
    copied = Store(copy)
    assert copied.find_by_reference(reference) is not None
    assert copied.journal_mode() == "wal"
    copied.close()
    store.close()
    refused = _shipbot(["backup", str(db)], db)
    assert refused.returncode == 2 and "can't overwrite" in refused.stderr
