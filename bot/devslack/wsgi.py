"""Serve a WSGI app on a free loopback port in a background thread (tests, demo)."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests assert on responses, not on access logs."""


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Bolt holds a request open until ack() (up to 3 s); one thread per request keeps
    # concurrent clicks from queueing behind each other.
    daemon_threads = True


def serve_wsgi(
    app: Any, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingWSGIServer, threading.Thread, str]:
    """Returns (server, thread, url); stop with `server.shutdown(); server.server_close()`."""
    server = ThreadingWSGIServer((host, port), _QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="wsgi", daemon=True)
    thread.start()
    return server, thread, f"http://{host}:{server.server_port}"
