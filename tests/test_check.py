"""`shipbot check` against the stand-in Slack and the sandbox: every part named, right exit."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.devslack.server import FakeSlack
from bot.sandbox.server import SandboxConfig, start_sandbox

KEY = "sorted-test-key"


@pytest.fixture(scope="module")
def keyed_sandbox() -> Iterator[str]:
    """A sandbox that accepts only KEY, as Sorted PRO accepts only your key."""
    running = start_sandbox(SandboxConfig(api_key=KEY))
    yield running.url
    running.stop()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, keyed_sandbox: str, tmp_path: Path
) -> dict[str, str]:
    fake_slack.set_socket_url("ws://127.0.0.1:9/socket")  # apps.connections.open answers
    values = {
        "SLACK_BOT_TOKEN": "xoxb-good",
        "SLACK_APP_TOKEN": "xapp-good",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_API_URL": fake_slack.url,
        "ELECTIO_API_KEY": KEY,
        "ELECTIO_API_URL": keyed_sandbox,
        "SHIPBOT_SHIPPING_LOCATION": "SHIPBOT_SANDBOX_DC",
        "SHIPBOT_DB": str(tmp_path / "shipbot.db"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no ./.env of the checkout
    return values


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["check", *args])
    return code, capsys.readouterr().out.splitlines()


def _line(lines: list[str], part: str) -> str:
    [line] = [line for line in lines if line[5:].startswith(part + ":")]
    return line


def _fails(lines: list[str], part: str, variable: str, *said: str) -> None:
    """`part`'s line is a failure naming `variable` (and saying `said`), the only one to fix."""
    line = _line(lines, part)
    assert line.startswith("FAIL") and f"[{variable}]" in line, line
    assert all(text in line for text in said), line
    assert lines[-1] == f"shipbot check: fix {variable}"


def test_all_good(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = _check(capsys)
    assert code == 0, lines
    assert _line(lines, "Slack token").startswith("ok ")
    assert "workspace" in _line(lines, "Slack token") and "bot user @shipbot" in "\n".join(lines)
    assert _line(lines, "scopes").startswith("ok ")
    assert _line(lines, "app token").startswith("ok ")
    assert _line(lines, "Sorted key").startswith("ok ")
    assert "accepted the key" in _line(lines, "Sorted key")
    assert "SHIPBOT_SANDBOX_DC" in _line(lines, "shipping location")
    database = _line(lines, "database")
    assert database.startswith("ok ") and "writable" in database and "schema" in database
    assert "GiB free" in database
    assert lines[-1].startswith("shipbot check: all")


def test_bad_slack_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-not-a-bot-token")
    code, lines = _check(capsys)
    assert code == 2
    assert "SLACK_BOT_TOKEN" in lines[-1]
    # The shape is refused before Slack is asked; a token of the right shape that Slack
    # refuses is named the same way.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    env_fake = FakeSlack().start()
    try:
        env_fake.fail_next("auth.test", "invalid_auth")
        monkeypatch.setenv("SLACK_API_URL", env_fake.url)
        code, lines = _check(capsys, "--http")
    finally:
        env_fake.stop()
    assert code == 2
    token = _line(lines, "Slack token")
    assert token.startswith("FAIL") and "invalid_auth" in token and "[SLACK_BOT_TOKEN]" in token


def test_missing_scope(
    env: dict[str, str], fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_slack.scopes = ("commands", "chat:write", "channels:join")
    code, lines = _check(capsys)
    assert code == 2
    scopes = _line(lines, "scopes")
    assert scopes.startswith("FAIL") and "files:write" in scopes and "im:write" in scopes
    assert "SLACK_BOT_TOKEN" in lines[-1]


@pytest.mark.parametrize(
    "name, value, part, said",
    [
        ("ELECTIO_API_KEY", "not-our-key", "Sorted key", ("401", "refused the API key")),
        ("SHIPBOT_SHIPPING_LOCATION", "", "shipping location", ()),
    ],
    ids=["bad Sorted key", "no shipping location with a key"],
)
def test_a_wrong_carrier_setting_is_named(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    part: str,
    said: tuple[str, ...],
) -> None:
    monkeypatch.setenv(name, value)
    code, lines = _check(capsys)
    assert code == 2
    _fails(lines, part, name, *said)


def test_unreachable_carrier_is_a_network_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ELECTIO_API_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("ELECTIO_CONNECT_TIMEOUT", "0.5")
    code, lines = _check(capsys)
    assert code == 3, lines
    assert "network error" in _line(lines, "Sorted key")
    assert "could not be reached" in lines[-1]


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """Root writes through file modes; an immutable file (chattr +i) not even root may write."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: no way to make a file unwritable for root")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this filesystem has no immutable files: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_database(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = _check(capsys)  # creates the database at the current schema
    assert code == 0
    db = Path(env["SHIPBOT_DB"])
    for leftover in db.parent.glob(db.name + "-*"):
        leftover.unlink()  # no WAL or shm: the write has to reach the file itself
    with _immutable(db):
        code, lines = _check(capsys)
    assert code == 2
    database = _line(lines, "database")
    assert database.startswith("FAIL") and "can't be written" in database
    assert "[SHIPBOT_DB]" in database and "SHIPBOT_DB" in lines[-1]
    # A path under a file can't even be opened: named the same way.
    monkeypatch.setenv("SHIPBOT_DB", str(db.parent / "LICENSE-not-a-folder" / "x.db"))
    (db.parent / "LICENSE-not-a-folder").write_text("a file")
    code, lines = _check(capsys)
    assert code == 2 and _line(lines, "database").startswith("FAIL")


def test_the_sandbox_warning(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ELECTIO_API_KEY")
    monkeypatch.setenv("SHIPBOT_SHIPPING_LOCATION", "")
    code, lines = _check(capsys)
    carrier = _line(lines, "carrier")
    assert carrier.startswith("warn") and "nothing is really shipped" in carrier
    # Without a key the sandbox refuses the placeholder: named as the URL's key problem.
    assert code == 2 and "Sorted key" in "\n".join(lines)


def test_serve_refuses_on_a_failed_check(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ELECTIO_API_KEY", "not-our-key")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "cannot start" in err and "ELECTIO_API_KEY" in err and "401" in err
    monkeypatch.setenv("SLACK_BOT_TOKEN", env["SLACK_BOT_TOKEN"])  # serve takes it out
    monkeypatch.setenv("ELECTIO_API_KEY", KEY)
    monkeypatch.setenv("ELECTIO_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ELECTIO_CONNECT_TIMEOUT", "0.5")
    code = main(["serve"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "could not reach" in err and "fix these settings" not in err


def test_a_refused_app_token(
    env: dict[str, str], fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Socket Mode's first call is apps.connections.open: a revoked app token fails there."""
    fake_slack.fail_next("apps.connections.open", "invalid_auth")
    code, lines = _check(capsys)
    assert code == 2
    _fails(lines, "app token", "SLACK_APP_TOKEN", "invalid_auth")
    assert _line(lines, "Slack token").startswith("ok ")  # the bot token is not blamed


def test_http_mode_checks_the_signing_secret_not_the_app_token(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-signing-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    code, lines = _check(capsys, "--http")
    assert code == 0, lines
    assert _line(lines, "signing secret").startswith("ok ")
    assert not [line for line in lines if "app token" in line]
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    code, lines = _check(capsys, "--http")
    assert code == 2
    assert any(line.startswith("FAIL") and "SLACK_SIGNING_SECRET" in line for line in lines)
    assert lines[-1] == "shipbot check: fix SLACK_SIGNING_SECRET"


def test_unreachable_slack_is_a_network_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing listens
    code, lines = _check(capsys)
    assert code == 3, lines
    token = _line(lines, "Slack token")
    assert token.startswith("FAIL") and "network error" in token
    assert _line(lines, "Sorted key").startswith("ok ")  # the rest is still tried
    assert "could not be reached" in lines[-1]
    # serve says the same at start, and not as settings to fix.
    code = main(["serve"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "could not reach" in err and "network error" in err
    assert "fix these settings" not in err


def test_an_answer_that_is_not_slack_names_the_url(
    env: dict[str, str],
    keyed_sandbox: str,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A URL that answers, but not as Slack does (here the keyed carrier's 401), is SLACK_API_URL
    to fix, not a refused token; Slack answering 503 is it being down (a network error)."""
    monkeypatch.setenv("SLACK_API_URL", keyed_sandbox + "/api/")
    code, lines = _check(capsys)
    assert code == 2, lines
    _fails(lines, "Slack token", "SLACK_API_URL", "HTTP 401", "not Slack's Web API")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    fake_slack.fail_next("auth.test", "503")
    code, lines = _check(capsys)
    assert code == 3, lines
    token = _line(lines, "Slack token")
    assert "HTTP 503" in token and "busy or down" in token and "refused" not in token
