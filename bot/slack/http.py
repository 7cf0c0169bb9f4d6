"""HTTP mode: `/slack/events` for everything Slack sends, `/healthz` for the proxy.

The WSGI adapter under a threaded server (not Bolt's single-threaded development server),
so one slow request never holds up the next.

Bodies are read here, never more than MAX_BODY_BYTES + 1 of them, before Bolt sees the
request: Bolt reads whatever Content-Length says into memory before it checks the
signature, so an unsigned 200 MB POST would otherwise cost 200 MB. Slack's largest payload
is a view submission, which carries the view (at most 250 kB, Slack's `view_too_large`)
URL-encoded; 1 MiB leaves room for that and refuses anything bigger with 413.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("shipbot.http")

EVENTS_PATH = "/slack/events"
# Largest request body we read (see the module docstring); documented in README.md.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own tolerance for a request's timestamp (seconds); older ones are replays.
STALE_AFTER_SECONDS = 300

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
        try:
            body = read_body(environ, MAX_BODY_BYTES)
        except BodyTooLarge as exc:
            log.warning("refused a request body of %s: over %s bytes (413)", exc, MAX_BODY_BYTES)
            return _json(start_response, "413 Content Too Large", {"error": "body too large"})
        except BadBody as exc:
            log.warning("refused a request: %s (400)", exc)
            return _json(start_response, "400 Bad Request", {"error": "bad request"})
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if not (timestamp.isdigit() and len(timestamp) <= 12):
            _log_refused(environ, timestamp, len(body))
            return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
        inner = dict(environ)
        inner.pop("HTTP_TRANSFER_ENCODING", None)
        inner["wsgi.input"] = io.BytesIO(body)
        inner["CONTENT_LENGTH"] = str(len(body))

        def answer(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            if status.startswith("401"):
                _log_refused(environ, timestamp, len(body))
            return start_response(status, headers, *exc_info)

        try:
            return self.bolt(inner, answer)
        except Exception as exc:  # Bolt parses the body before it checks the signature
            log.warning(
                "refused a request Bolt could not parse (%s), %d bytes (body not logged) (400)",
                type(exc).__name__,
                len(body),
            )
            return _json(start_response, "400 Bad Request", {"error": "bad request"})


class BodyTooLarge(Exception):
    """The body is over the limit; the message says how big (declared or read so far)."""


class BadBody(Exception):
    """A Content-Length or chunked framing that isn't HTTP, or a body that isn't UTF-8."""


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """At most `limit` bytes of body: refused by Content-Length before reading, and a
    chunked body is refused as soon as it passes the limit (never more than limit+1 read).

    No Content-Length and no chunking means no body (RFC 9112 section 6.3): nothing is read,
    so a client that never ends its body can't hold us reading.
    """
    stream = environ.get("wsgi.input")
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        body = _read_chunked(stream, limit)
    else:
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not (declared.isdigit() and len(declared) <= 18):
            raise BadBody("Content-Length is not a number")
        length = int(declared)
        if length > limit:
            raise BodyTooLarge(f"{length:,} bytes (Content-Length)")
        body = stream.read(length) if stream is not None and length else b""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody("the body is not UTF-8") from exc
    return bytes(body)


def _read_chunked(stream: Any, limit: int) -> bytes:
    if stream is None:
        return b""
    parts: list[bytes] = []
    total = 0
    while True:
        line = stream.readline(256)
        if not line.endswith(b"\n"):
            raise BadBody("chunk size line too long or cut short")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise BadBody("chunk size is not hexadecimal") from exc
        if size == 0:
            break
        if total + size > limit:
            # Read no more than the limit plus one byte: enough to know it is over.
            stream.read(limit + 1 - total)
            raise BodyTooLarge(f"over {limit:,} bytes (chunked, read {limit + 1:,})")
        chunk = stream.read(size)
        if len(chunk) != size:
            raise BadBody("chunked body cut short")
        parts.append(chunk)
        total += size
        stream.readline(8)  # the CRLF after the chunk
    for _ in range(64):  # trailer fields, up to the blank line
        trailer = stream.readline(1024)
        if trailer in (b"\r\n", b"\n", b""):
            break
    return b"".join(parts)


def _log_refused(environ: dict[str, Any], timestamp: str, size: int) -> None:
    """One short line for a request Slack didn't sign (or signed too long ago): no body."""
    if timestamp.isdigit() and len(timestamp) <= 12:
        age = int(time.time()) - int(timestamp)
        why = f"stale timestamp ({age:+d} s)" if abs(age) > STALE_AFTER_SECONDS else "bad signature"
    else:
        why = "missing or malformed timestamp"
    log.warning(
        "refused a request from %s: %s, %d bytes (body not logged) (401)",
        environ.get("REMOTE_ADDR", "?"),
        why,
        size,
    )


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
