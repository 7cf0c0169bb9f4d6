"""HTTP mode: `/slack/events` for everything Slack sends, `/healthz` for the proxy.

The WSGI adapter under a threaded server (not Bolt's single-threaded development server),
so one slow request never holds up the next.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("shipbot.http")

EVENTS_PATH = "/slack/events"

StartResponse = Callable[..., Any]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class SlackWSGI:
    """Routes requests; refuses malformed Slack headers with 401 instead of Bolt's 500."""

    def __init__(self, app: App, health: Callable[[], dict[str, Any]] | None = None) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.health = health or (lambda: {"ok": True})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method == "GET":
            return _json(start_response, "200 OK", self.health())
        if path != EVENTS_PATH:
            return _json(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if not (timestamp.isdigit() and len(timestamp) <= 12):
            return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
        return self.bolt(environ, start_response)


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def make_http_server(
    app: App, host: str, port: int, health: Callable[[], dict[str, Any]] | None = None
) -> ThreadingWSGIServer:
    server = make_server(
        host,
        port,
        SlackWSGI(app, health),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    assert isinstance(server, ThreadingWSGIServer)
    return server


def serve_in_thread(
    app: App, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingWSGIServer, str]:
    """For tests, the demo and benchmarks: the same server, on a free port, in a thread."""
    server = make_http_server(app, host, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="shipbot-http",
        daemon=True,
    )
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}{EVENTS_PATH}"
