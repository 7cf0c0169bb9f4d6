"""`shipbot`: serve the bot (Socket Mode or HTTP), run the sandbox carrier, or the demo."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.settings import Command

EXIT_BAD_SETTINGS = 2
SANDBOX_WARNING = (
    "SANDBOX carrier: nothing is shipped and no label is real (Slack says so on every "
    "message). For production set SHIPBOT_CARRIER=sorted and ELECTIO_API_KEY."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shipbot",
        description="Ship parcels from Slack through Sorted PRO (the Electio API).",
        epilog="Settings come from the environment (and ./.env): see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"shipbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the bot (Socket Mode by default)",
        description=(
            "Run the bot. Socket Mode (default) needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; "
            "--http needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET and serves POST "
            "/slack/events and GET /healthz, /readyz and /metrics. Without ELECTIO_API_KEY or "
            "ELECTIO_API_URL the local sandbox carrier is started in-process."
        ),
    )
    serve.add_argument("--http", action="store_true", help="serve HTTP instead of Socket Mode")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    serve.add_argument(
        "--health-port",
        type=int,
        default=None,
        metavar="N",
        help="Socket Mode: serve /healthz, /readyz and /metrics on this port (HTTP mode "
        "serves them beside /slack/events)",
    )

    # Its options are the sandbox's own (bot/sandbox/server.py): handed over unparsed.
    sub.add_parser(
        "sandbox",
        help="run the local sandbox carrier (Sorted PRO's wire format)",
        add_help=False,
    )

    check = sub.add_parser(
        "check",
        help="try each configured part (Slack, Sorted PRO, the database) and say what answered",
        description=(
            "Try each configured part once, one line each: the Slack token (workspace, bot "
            "user) and its scopes, the app-level token (Socket Mode) or the signing secret "
            "(--http), the Sorted PRO key and host, the shipping location, the database. "
            "Exit 0 when all pass, 2 when a setting is wrong (each named), 3 when only the "
            "network failed."
        ),
    )
    check.add_argument("--http", action="store_true", help="check for HTTP mode (signing secret)")

    sub.add_parser(
        "worker",
        help="run the flows for `serve` (which starts it: not run by hand)",
        description=(
            "The jobs, the Slack outbox and the carrier calls, in a process of their own: "
            "`serve` starts it, starts it again if it dies, and stops it. Pokes on stdin say "
            "a job was written; stdin's end stops it."
        ),
    )
    demo = sub.add_parser(
        "demo",
        help="drive the whole flow against the sandbox and a stand-in Slack",
        description=(
            "Start the sandbox carrier and a stand-in Slack Web API, serve the real app, and "
            "drive it as Slack would through two consignments (UK and abroad). Prints the "
            "conversation and saves the PDFs under ./shipbot-demo/."
        ),
    )
    backup = sub.add_parser(
        "backup",
        help="copy the live database consistently (the bot may keep running)",
        description="Copy SHIPBOT_DB to PATH with SQLite's online backup; safe while serving.",
    )
    backup.add_argument("path", help="where to write the copy")

    demo.add_argument("--slow", action="store_true", help="add carrier latency")
    demo.add_argument(
        "--out", default="shipbot-demo", help="folder for PDFs (default shipbot-demo)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "sandbox":
        from bot.sandbox.server import main as sandbox

        return sandbox(rest, prog="shipbot sandbox")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        return _worker()
    if args.command == "check":
        return _check(args)
    if args.command == "backup":
        return _backup(args.path)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(slow=args.slow, out_dir=args.out)
    return EXIT_BAD_SETTINGS


def _fail(lines: Sequence[str]) -> int:
    """Exit 2: one problem is one line (what a supervisor's log shows); several are listed."""
    if len(lines) == 1:
        print(f"shipbot: cannot start: {lines[0]}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    print("shipbot: cannot start; fix these settings:", file=sys.stderr)
    for line in lines:
        print(f"  - {line}", file=sys.stderr)
    return EXIT_BAD_SETTINGS


def _check(args: Any) -> int:
    from bot import check
    from bot.runtime import connect_carrier
    from bot.settings import load_settings

    settings, errors = load_settings()
    if settings is None:
        for line in errors:
            print(f"FAIL settings: {line}")
        return EXIT_BAD_SETTINGS

    def connect() -> tuple[Any, str, Any]:
        connection = connect_carrier(settings)
        return connection.client, connection.url, connection.close

    results = check.run_all(settings, "serve-http" if args.http else "serve-socket", connect)
    for result in results:
        print(result.line(), flush=True)
    code = check.exit_code(results)
    failed = sorted(check.failed_variables(results))
    if code == check.EXIT_UNREACHABLE:
        print("shipbot check: the settings look right, but a part could not be reached")
    elif failed:
        print(f"shipbot check: fix {', '.join(failed)}")
    else:
        print(f"shipbot check: all {len(results)} checks passed")
    return code


def _refuse(results: Sequence[Any]) -> int:
    """`serve`'s refusal: a network failure is said as one, not as a setting to fix."""
    from bot import check

    failed = [r for r in results if not r.ok]
    if check.exit_code(list(results)) == check.EXIT_UNREACHABLE:
        print("shipbot: cannot start; could not reach:", file=sys.stderr)
        for result in failed:
            print(f"  - {result.problem()}", file=sys.stderr)
        return check.EXIT_UNREACHABLE
    return _fail([r.problem() for r in failed])


def _backup(path: str) -> int:
    from bot.settings import load_settings
    from bot.store.db import Database, DatabaseProblem

    settings, errors = load_settings()
    if settings is None:
        return _fail(errors)
    if os.path.abspath(path) == os.path.abspath(settings.shipbot_db):
        return _fail([f"the backup can't overwrite SHIPBOT_DB itself ({path})"])
    # Checked before opening: opening creates a missing file (a cron job in the wrong folder
    # would make empty backups for ever, each reported a success).
    refusal = _not_a_shipbot_database(settings.shipbot_db)
    if refusal:
        print(f"shipbot backup: refused: {refusal}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        database = Database(settings.shipbot_db)
    except DatabaseProblem as exc:
        return _fail([f"SHIPBOT_DB: {exc}"])
    try:
        database.backup(path)
    except Exception as exc:  # sqlite3 errors: unwritable target, full disk
        return _fail([f"backup to {path} failed: {exc}"])
    finally:
        database.close()
    print(f"shipbot: copied {settings.shipbot_db} to {path}", flush=True)
    return 0


def _not_a_shipbot_database(path: str) -> str | None:
    """Why SHIPBOT_DB can't be what we back up, read without writing a byte; None if it is."""
    import sqlite3

    where = os.path.abspath(path)
    if not os.path.isfile(path):
        return f"SHIPBOT_DB {where} does not exist (run it where the bot's database is)"
    try:
        conn = sqlite3.connect(f"file:{where}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return f"SHIPBOT_DB {where} is not a SQLite database"
    if not {"consignments", "jobs", "audit"} <= tables:
        return f"SHIPBOT_DB {where} is not a shipbot database (no consignments table)"
    return None


def _serve(args: Any) -> int:
    from bot.settings import load_settings

    environment = dict(os.environ)  # the worker's, before Bolt's variables are taken out
    settings, errors = load_settings()
    if settings is None:
        return _fail(errors)
    from bot import check

    command: Command = "serve-http" if args.http else "serve-socket"
    # The local checks first: a bad setting or database refuses without a network call.
    results = check.local_checks(settings, command)
    if any(not r.ok for r in results):
        return _refuse(results)

    from bot.app import build
    from bot.runtime import connect_carrier, setup_logging
    from bot.store.db import DatabaseProblem
    from bot.store.jobs import RunnerBusy
    from bot.store.writes import Store

    setup_logging(settings.shipbot_log_level, settings.shipbot_log_format)
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        # Bolt switches to OAuth mode and ignores our bot token when both are set.
        if os.environ.pop(name, None) is not None:
            print(f"shipbot: ignoring {name} (single-workspace bot)", file=sys.stderr)
    # Bolt also reads SLACK_BOT_TOKEN itself and warns that our client wins; the settings
    # hold it now, so it need not stay in the environment.
    os.environ.pop("SLACK_BOT_TOKEN", None)
    try:
        store = Store(settings.shipbot_db, busy_timeout=settings.shipbot_db_busy_timeout)
    except DatabaseProblem as exc:
        return _fail([f"SHIPBOT_DB: {exc}"])
    carrier = connect_carrier(settings)
    remote = check.remote_checks(settings, command, carrier.client, carrier.url)
    if any(not r.ok for r in remote):
        carrier.close()
        store.close()
        return _refuse(remote)
    try:
        bot = build(settings, store, carrier.client)
    except Exception as exc:  # e.g. auth.test refused the token
        carrier.close()
        store.close()
        return _fail([f"Slack refused to start the app: {exc}"])
    mode = f"HTTP on {args.host}:{args.port} (POST /slack/events)" if args.http else "Socket Mode"
    print(f"shipbot {__version__}: Slack {mode}, Web API at {settings.slack_base_url}", flush=True)
    print(f"shipbot: carrier {carrier.description}", flush=True)
    for result in remote:
        print(f"shipbot: {result.part}: {result.said}", flush=True)
    if settings.carrier_is_sandbox:
        print(f"shipbot: WARNING: {SANDBOX_WARNING}", file=sys.stderr, flush=True)
    if notice := settings.customs_notice():
        print(f"shipbot: {notice}", flush=True)
    print(
        f"shipbot: database {os.path.abspath(settings.shipbot_db)} "
        f"(journal {store.journal_mode()})",
        flush=True,
    )
    holder = bot.runner.queue.acquire_lease()  # the worker takes it over at once
    if holder is not None:
        carrier.close()
        store.close()
        return _fail([_in_use(settings.shipbot_db, RunnerBusy(holder))])
    from bot.worker import Supervisor

    env = _worker_env(carrier, environment)
    env["SHIPBOT_RUNNER_OWNER"] = bot.runner.queue.owner  # the lease passes to the worker
    supervisor = Supervisor(env)
    bot.runner.worker = supervisor
    bot.outbox.worker = supervisor
    supervisor.start()
    print(f"shipbot: flows run in a worker process (pid {supervisor.pid})", flush=True)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        if args.http:
            from bot.health import Ops
            from bot.slack.http import make_http_server

            server = make_http_server(bot.app, args.host, args.port, Ops(bot))
            print("shipbot: ready", flush=True)
            try:
                server.serve_forever()
            finally:
                server.server_close()  # no new connections; requests in flight finish
        else:
            handler = _socket_handler(bot.app, settings.slack_app_token)
            health = None if args.health_port is None else _health(bot, handler, args)
            print("shipbot: ready", flush=True)
            try:
                handler.start()
            finally:
                if health is not None:
                    health.shutdown()
                    health.server_close()
    except KeyboardInterrupt:
        print("shipbot: stopping: no new work; waiting for calls in flight", flush=True)
    finally:
        # No new requests now; the worker drains: carrier calls in flight finish (up to the
        # grace period), each flow's step is already recorded, the rest resumes next start.
        code = supervisor.stop(settings.shipbot_stop_grace + 10)
        carrier.close()
        store.close()
        print(f"shipbot: stopped (the worker exited {code})", flush=True)
    return 0


def _in_use(db: str, exc: Exception) -> str:
    return (
        f"SHIPBOT_DB {db} is in use by another shipbot ({exc}): "
        "stop that one first, or give this one its own SHIPBOT_DB"
    )


def _worker_env(carrier: Any, environment: dict[str, str]) -> dict[str, str]:
    """The worker's environment: the server's, with the server's own sandbox carrier (if it
    started one) as its carrier, so a restarted worker finds the same consignments."""
    env = dict(environment)
    env.pop("SLACK_CLIENT_ID", None)
    env.pop("SLACK_CLIENT_SECRET", None)
    if carrier.sandbox is not None:
        env["ELECTIO_API_URL"] = carrier.url
        env.pop("SHIPBOT_CARRIER", None)
    return env


def _worker() -> int:
    """`shipbot worker` (started by `serve`): the lease, the jobs, the outbox, the carrier."""
    from bot.settings import load_settings

    settings, errors = load_settings()
    if settings is None:
        return _fail(errors)
    from bot.app import build
    from bot.runtime import connect_carrier, setup_logging
    from bot.store.jobs import RunnerBusy
    from bot.store.writes import Store
    from bot.worker import READY, RUNNER_BUSY_EXIT, listen

    setup_logging(settings.shipbot_log_level, settings.shipbot_log_format)
    os.environ.pop("SLACK_BOT_TOKEN", None)
    store = Store(settings.shipbot_db, busy_timeout=settings.shipbot_db_busy_timeout)
    carrier = connect_carrier(settings)
    bot = build(settings, store, carrier.client)
    try:
        resumed = bot.start()
    except RunnerBusy as exc:
        carrier.close()
        store.close()
        _fail([_in_use(settings.shipbot_db, exc)])
        return RUNNER_BUSY_EXIT
    print(f"shipbot: resumed {len(resumed)} consignment(s) left unfinished", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    listen(bot.runner, bot.outbox, stop.set)
    print(READY, flush=True)
    while not stop.wait(0.5):
        pass
    left = bot.stop(settings.shipbot_stop_grace)
    carrier.close()
    store.close()
    print(f"shipbot: worker stopped ({len(left)} job(s) left for the next start)", flush=True)
    return 0


def _health(bot: Any, handler: Any, args: Any) -> Any:
    """Socket Mode's `--health-port`: /healthz, /readyz and /metrics on a small server."""
    from bot.health import Ops
    from bot.slack.http import HttpServer, start_thread

    ops = Ops(bot, socket_connected=handler.client.is_connected)
    server = HttpServer(ops, args.host, args.health_port, threads=2)
    start_thread(server, "shipbot-health")
    host, port = server.server_address
    print(f"shipbot: health on http://{host}:{port} (/healthz, /readyz, /metrics)", flush=True)
    return server


def _socket_handler(app: Any, app_token: str) -> Any:
    """Bolt's Socket Mode adapter, logging each connection change (it reconnects by itself)."""
    import logging

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log = logging.getLogger("shipbot.socket")
    handler = SocketModeHandler(app, app_token=app_token, logger=log)

    def closed(code: int, reason: str | None) -> None:
        log.warning("socket mode connection closed (code %s, %s); reconnecting", code, reason)

    def failed(error: Exception) -> None:
        log.warning("socket mode connection error: %s", type(error).__name__)

    handler.client.on_close_listeners.append(closed)
    handler.client.on_error_listeners.append(failed)
    return handler


if __name__ == "__main__":
    sys.exit(main())
