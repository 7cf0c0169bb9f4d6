"""`shipbot check`: try each configured part once and say, one line each, what answered.

`serve` runs the same checks before it starts (the local ones first: a bad database or
setting refuses without touching the network). A failure names the variable to fix; a part
that could not be reached is said as a network error, not as a wrong setting.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.carrier.client import CarrierClient
from bot.carrier.errors import CarrierError, CarrierUnavailable, Unauthorized
from bot.settings import CarrierMode, Command, Settings
from bot.slack.slackio import probe_app_token, probe_token
from bot.store.db import SCHEMA_VERSION, Database, DatabaseProblem

# The bot scopes the code calls methods with (tests/test_app_manifest.py keeps this, the
# manifest and the code in agreement).
REQUIRED_SCOPES = frozenset({"commands", "chat:write", "files:write", "channels:join", "im:write"})
# Below this much free space next to SHIPBOT_DB, writes (and WAL checkpoints) may soon fail.
MIN_FREE_BYTES = 50 * 1024 * 1024
# A reference no consignment has: the search for it is the carrier's one harmless GET.
PROBE_REFERENCE = "EC-000-000-000"
EXIT_OK = 0
EXIT_FAILED = 2
EXIT_UNREACHABLE = 3


@dataclass(frozen=True)
class Result:
    part: str
    ok: bool
    said: str
    # The variable to fix when not ok; "" for a warning.
    variable: str = ""
    # Not ok because it could not be reached (a network error), not because of a setting.
    unreachable: bool = False
    warning: bool = False

    def problem(self) -> str:
        """For a refusal to start: the variable first, then what was found."""
        if not self.variable or self.said.startswith(self.variable):
            return f"{self.part}: {self.said}" if not self.variable else self.said
        return f"{self.variable}: {self.part}: {self.said}"

    def line(self) -> str:
        mark = "ok  " if self.ok and not self.warning else ("warn" if self.ok else "FAIL")
        fix = f" [{self.variable}]" if self.variable and not self.ok else ""
        return f"{mark} {self.part}: {self.said}{fix}"


def exit_code(results: list[Result]) -> int:
    failed = [r for r in results if not r.ok]
    if not failed:
        return EXIT_OK
    return EXIT_UNREACHABLE if all(r.unreachable for r in failed) else EXIT_FAILED


# -- local parts ----------------------------------------------------------------------------


def check_settings(settings: Settings, command: Command) -> list[Result]:
    problems = settings.problems(command)
    if not problems:
        return [Result("settings", True, f"read for {command.replace('-', ' ')}")]
    return [
        Result("settings", False, problem, variable=problem.split(" ", 1)[0].rstrip(":"))
        for problem in problems
    ]


def check_signing_secret(settings: Settings) -> Result:
    if settings.slack_signing_secret.strip():
        return Result("signing secret", True, "set (HTTP requests are verified with it)")
    return Result("signing secret", False, "not set", variable="SLACK_SIGNING_SECRET")


def check_database(settings: Settings) -> Result:
    """Opens (and migrates) it, writes in a transaction rolled back, and looks at free disk."""
    path = settings.shipbot_db
    try:
        database = Database(path, busy_timeout=min(settings.shipbot_db_busy_timeout, 5.0))
    except DatabaseProblem as exc:
        return Result("database", False, str(exc), variable="SHIPBOT_DB")
    try:
        conn = database.conn()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE shipbot_check_probe (x INTEGER)")
        finally:
            conn.execute("ROLLBACK")
        journal = database.journal_mode()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        why = "can't be written (read-only file or folder)" if "readonly" in text else text
        return Result("database", False, f"{path} {why}", variable="SHIPBOT_DB")
    finally:
        database.close()
    free = shutil.disk_usage(Path(os.path.abspath(path)).parent).free
    said = (
        f"{os.path.abspath(path)} opens and is writable (schema {version} of {SCHEMA_VERSION}, "
        f"journal {journal}, {free / 1024**3:.1f} GiB free)"
    )
    if free < MIN_FREE_BYTES:
        return Result(
            "database",
            False,
            f"{said}: under {MIN_FREE_BYTES >> 20} MiB free",
            variable="SHIPBOT_DB",
        )
    return Result("database", True, said)


def check_carrier_mode(settings: Settings) -> Result:
    """The sandbox warning: nothing is really shipped there."""
    mode = settings.carrier_mode
    if mode is CarrierMode.SORTED:
        host = urlparse(settings.carrier_url).netloc
        sandbox = settings.carrier_is_sandbox
        said = f"Sorted PRO at {host}" + (
            " (Sorted's sandbox: nothing is really shipped)" if sandbox else ""
        )
        return Result("carrier", True, said, warning=sandbox)
    return Result(
        "carrier",
        True,
        f"{mode.value}: nothing is really shipped (set ELECTIO_API_KEY for Sorted PRO)",
        warning=True,
    )


def check_shipping_location(settings: Settings) -> Result:
    if settings.shipbot_shipping_location:
        return Result(
            "shipping location",
            True,
            f"{settings.shipbot_shipping_location} (Sorted PRO confirms it on the first "
            "consignment: it has no call to look one up)",
        )
    if settings.carrier_mode is CarrierMode.SORTED and settings.electio_api_key:
        # (SHIPBOT_CARRIER=sorted with no key: the missing key is the one line to fix first.)
        return Result("shipping location", False, "not set", variable="SHIPBOT_SHIPPING_LOCATION")
    return Result("shipping location", True, f"{settings.shipping_location} (the sandbox's)")


# -- remote parts ---------------------------------------------------------------------------


def check_slack(settings: Settings) -> list[Result]:
    """auth.test with the bot token: who we are, and the scopes Slack granted it."""
    try:
        response = probe_token(settings.slack_bot_token, settings.slack_base_url)
    except SlackApiError as exc:
        return [_slack_refused("Slack token", settings, exc, "SLACK_BOT_TOKEN", "Slack refused it")]
    except (SlackClientError, urllib.error.URLError, OSError) as exc:
        return [_unreachable("Slack token", settings.slack_base_url, exc, "SLACK_API_URL")]
    token = Result(
        "Slack token",
        True,
        f"workspace {response.get('team')} ({response.get('team_id')}), "
        f"bot user @{response.get('user')} ({response.get('user_id')})",
    )
    header = _header(response.headers, "x-oauth-scopes")
    if header is None:
        return [
            token,
            Result("scopes", True, "Slack did not list them (not checked)", warning=True),
        ]
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        return [
            token,
            Result(
                "scopes",
                False,
                f"missing {', '.join(missing)}: add them (app_manifest.yml has them all) and "
                "reinstall the app, then copy the new token",
                variable="SLACK_BOT_TOKEN",
            ),
        ]
    return [token, Result("scopes", True, f"all {len(REQUIRED_SCOPES)} the bot needs granted")]


def check_app_token(settings: Settings) -> Result:
    """apps.connections.open with the app-level token: what Socket Mode does first."""
    try:
        probe_app_token(settings.slack_app_token, settings.slack_base_url)
    except SlackApiError as exc:
        refused = "Slack refused it for Socket Mode"
        return _slack_refused("app token", settings, exc, "SLACK_APP_TOKEN", refused)
    except (SlackClientError, urllib.error.URLError, OSError) as exc:
        return _unreachable("app token", settings.slack_base_url, exc, "SLACK_API_URL")
    return Result("app token", True, "Socket Mode connection granted")


def check_carrier(settings: Settings, carrier: CarrierClient, url: str) -> Result:
    """One authenticated search for a reference nobody has: 401 is a bad key."""
    host = urlparse(url).netloc or url
    key = "ELECTIO_API_KEY" if settings.electio_api_key else "ELECTIO_API_URL"
    try:
        carrier.search_consignments({"reference": PROBE_REFERENCE}, limit=1)
    except Unauthorized:
        return Result("Sorted key", False, f"{host} refused the API key (401)", variable=key)
    except CarrierUnavailable as exc:
        if exc.status is None:
            return Result(
                "Sorted key",
                False,
                f"network error: {exc.message}",
                variable="ELECTIO_API_URL",
                unreachable=True,
            )
        return Result(
            "Sorted key",
            False,
            f"{host} failed ({exc.message})",
            variable="ELECTIO_API_URL",
            unreachable=True,
        )
    except CarrierError as exc:
        return Result(
            "Sorted key", False, f"{host} answered: {exc.message}", variable="ELECTIO_API_URL"
        )
    return Result("Sorted key", True, f"{host} accepted the key (one search answered)")


def _slack_refused(
    part: str, settings: Settings, exc: SlackApiError, variable: str, refused: str
) -> Result:
    """Slack's own error names the token; a 429 or 5xx is Slack busy or down (said as a
    network error); an answer without Slack's error is not Slack: the URL is wrong."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "")
    status = response.status_code
    host = urlparse(settings.slack_base_url).netloc or settings.slack_base_url
    if status == 429 or status >= 500:
        return Result(
            part,
            False,
            f"{host} answered HTTP {status} ({error or 'no Slack error'}): Slack is busy or "
            "down, try again",
            variable="SLACK_API_URL",
            unreachable=True,
        )
    if not error:
        return Result(
            part,
            False,
            f"{host} answered HTTP {status} without Slack's error: not Slack's Web API",
            variable="SLACK_API_URL",
        )
    return Result(part, False, f"{refused} ({error})", variable=variable)


def _unreachable(part: str, url: str, exc: BaseException, variable: str) -> Result:
    return Result(
        part,
        False,
        f"network error reaching {urlparse(url).netloc or url} ({type(exc).__name__}): "
        "check the network, then the URL",
        variable=variable,
        unreachable=True,
    )


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


# -- the whole run --------------------------------------------------------------------------


def local_checks(settings: Settings, command: Command) -> list[Result]:
    """What needs no network: the settings, the database, the carrier mode and location."""
    results = check_settings(settings, command)
    if command == "serve-http" and settings.slack_signing_secret.strip():
        results.append(check_signing_secret(settings))  # unset is a settings problem above
    results += [
        check_database(settings),
        check_carrier_mode(settings),
        check_shipping_location(settings),
    ]
    return results


def remote_checks(
    settings: Settings,
    command: Command,
    carrier: CarrierClient,
    carrier_url: str,
    failed: frozenset[str] = frozenset(),
) -> list[Result]:
    """Slack and the carrier, each asked once; a variable already failed is not tried."""
    results: list[Result] = []
    if not failed & {"SLACK_BOT_TOKEN", "SLACK_API_URL"}:
        results += check_slack(settings)
    if command == "serve-socket" and not failed & {"SLACK_APP_TOKEN", "SLACK_API_URL"}:
        results.append(check_app_token(settings))
    if not failed & {"ELECTIO_API_URL", "ELECTIO_API_KEY"}:
        results.append(check_carrier(settings, carrier, carrier_url))
    return results


def failed_variables(results: list[Result]) -> frozenset[str]:
    return frozenset(r.variable for r in results if not r.ok and r.variable)


def run_all(
    settings: Settings,
    command: Command,
    connect: Callable[[], tuple[CarrierClient, str, Callable[[], None]]],
) -> list[Result]:
    """Every check, local and remote (`shipbot check`): all are tried, whatever fails."""
    results = local_checks(settings, command)
    client, url, close = connect()
    try:
        results += remote_checks(settings, command, client, url, failed_variables(results))
    finally:
        close()
    return results
