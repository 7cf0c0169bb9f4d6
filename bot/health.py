"""`/healthz`, `/readyz` and `/metrics`: one WSGI app, beside `/slack/events` in HTTP mode and
on `--health-port` in Socket Mode.

`/healthz` says the process serves (a container's liveness). `/readyz` says whether it can
do its work now, part by part: Slack (the Socket Mode connection; the Web API's last answer
not a refused token or no answer), the database (a write could be made), the job runner and
the outbox (their threads run), the carrier (its last call was answered, and not with 5xx
or 401). It answers 503 naming each failing part. `/metrics` is prometheus-client's own
WSGI app over the bot's registry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import make_wsgi_app

if TYPE_CHECKING:
    from bot.app import RunningBot

StartResponse = Callable[..., Any]
PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class Ops:
    """The three paths of one running bot; `socket_connected` is given in Socket Mode."""

    def __init__(
        self,
        bot: RunningBot,
        *,
        socket_connected: Callable[[], bool] | None = None,
        db_timeout: float = 1.0,
    ) -> None:
        self.bot = bot
        self.socket_connected = socket_connected
        # How long the database's probe write may wait for a writer before it counts as failed.
        self.db_timeout = db_timeout
        self._metrics = make_wsgi_app(bot.metrics.registry)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return json_response(start_response, "405 Method Not Allowed", {"error": "GET only"})
        if path == "/healthz":
            return json_response(start_response, "200 OK", self.alive())
        if path == "/readyz":
            parts = self.readiness()
            failing = sorted(name for name, (ok, _) in parts.items() if not ok)
            body = {
                "ok": not failing,
                "failing": failing,
                "parts": {name: said for name, (_, said) in parts.items()},
            }
            return json_response(
                start_response, "503 Service Unavailable" if failing else "200 OK", body
            )
        if path == "/metrics":
            return self._metrics(environ, start_response)
        return json_response(start_response, "404 Not Found", {"error": "not found"})

    def alive(self) -> dict[str, Any]:
        """The jobs by state too: benchmarks wait on them."""
        return {"ok": True, "jobs": self.bot.runner.queue.states()}

    def readiness(self) -> dict[str, tuple[bool, str]]:
        return {
            "slack": self._slack(),
            "database": self._database(),
            "jobs": self._jobs(),
            "carrier": self._carrier(),
        }

    def _slack(self) -> tuple[bool, str]:
        if self.socket_connected is not None and not self.socket_connected():
            return False, "the Socket Mode connection is down"
        last = self.bot.metrics.last_slack
        if last is not None and last.failing:
            return False, f"the last Web API call failed ({last.outcome})"
        said = "Socket Mode connected" if self.socket_connected is not None else "HTTP mode"
        return True, f"{said}; last Web API call {last.outcome if last else 'none yet'}"

    def _database(self) -> tuple[bool, str]:
        try:
            self.bot.store.database.probe_write(self.db_timeout)
        except sqlite3.DatabaseError as exc:
            return False, f"can't be written ({exc})"
        return True, "writable"

    def _jobs(self) -> tuple[bool, str]:
        problem = self.bot.runner.alive()
        if problem is not None:
            return False, f"the job runner is {problem}" if " " not in problem else problem
        if not self.bot.outbox.alive():
            return False, "the Slack outbox's delivery thread is not running"
        return True, "the job runner and the outbox run"

    def _carrier(self) -> tuple[bool, str]:
        last = self.bot.metrics.last_carrier
        if last is None:
            return True, "no call yet"
        if last.failing:
            return False, f"the last call failed ({last.outcome})"
        return True, f"last call {last.outcome}"


def json_response(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    """Every answer of ours that is not Bolt's is a small JSON object."""
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]
