"""HTTP mode: `/slack/events` for everything Slack sends; `/healthz`, `/readyz`, `/metrics`.

Bolt's WSGI adapter under waitress, a production WSGI server with a thread pool (our Bolt
app is synchronous: an ASGI server would run its dispatch on the event loop, one request at
a time). Waitress parses HTTP (chunked bodies included) and buffers each body before the app
runs, so its own limit is what keeps an oversized body out: a Content-Length over
MAX_BODY_BYTES is answered 413 before a byte of the body is read, and a chunked body is cut
off one byte past the limit. Bolt would otherwise read whatever Content-Length says into
memory before it checks the signature. Slack's largest payload is a view submission, which
carries the view (at most 250 kB, Slack's `view_too_large`) URL-encoded; 1 MiB leaves room.
Waitress's own refusals (413, 400) are logged in the same one short line as ours.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer, create_server
from waitress.task import ErrorTask

from bot.health import PATHS as OPS_PATHS
from bot.health import json_response as _json

log = logging.getLogger("shipbot.http")
# Waitress warns "Task queue depth is N" on every request that waits for a free thread: under
# a burst of agents that is a line a request. The wait is in the ack time Slack sees (measured
# from outside by benchmarks/acks.py), not an error.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

EVENTS_PATH = "/slack/events"
# Largest request body we read (see the module docstring); documented in README.md.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own tolerance for a request's timestamp (seconds); older ones are replays.
STALE_AFTER_SECONDS = 300

StartResponse = Callable[..., Any]


WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class SlackWSGI:
    """Routes requests; refuses malformed Slack headers with 401 instead of Bolt's 500.

    `ops` serves `/healthz`, `/readyz` and `/metrics` (bot/health.py); without it (a bare
    Bolt app, as the benchmark serves) `/healthz` alone answers.
    """

    def __init__(self, app: App, ops: WSGIApp | None = None) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)
        self.ops = ops

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path in OPS_PATHS and self.ops is not None:
            return self.ops(environ, start_response)
        if path == "/healthz" and method == "GET":
            return _json(start_response, "200 OK", {"ok": True})
        if path != EVENTS_PATH:
            return _json(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
        try:
            body = read_body(environ, MAX_BODY_BYTES)
        except BodyTooLarge as exc:
            # (Not "request body": the log guard would cut the line there.)
            log.warning(
                "refused a request from %s: body of %s, over %s bytes (413)",
                environ.get("REMOTE_ADDR", "?"),
                exc,
                MAX_BODY_BYTES,
            )
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


class _RefusalLoggedErrorTask(ErrorTask):
    """Waitress's own error answers (body too large, bad framing), logged in our one line."""

    def execute(self) -> None:
        error = self.request.error
        status = getattr(error, "code", "?")
        if status == 413:
            log.warning(
                "refused a request from %s: body over %s bytes (413)",
                self.channel.addr[0] if self.channel.addr else "?",
                MAX_BODY_BYTES,
            )
        else:
            log.warning(
                "refused a request from %s: %s (%s)",
                self.channel.addr[0] if self.channel.addr else "?",
                getattr(error, "reason", type(error).__name__),
                status,
            )
        said = "body too large" if status == 413 else "bad request"
        body = json.dumps({"error": said}).encode()
        self.status = f"{status} {getattr(error, 'reason', 'Bad Request')}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _RefusalLoggedErrorTask


class HttpServer:
    """Waitress serving the app: `serve_forever` in one thread, `shutdown` from another."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = 16) -> None:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            # Waitress refuses at >= its limit: one more lets a body of exactly 1 MiB in.
            max_request_body_size=MAX_BODY_BYTES + 1,
            ident="shipbot",
            expose_tracebacks=False,
            channel_timeout=30,
            connection_limit=500,
            _start=True,
        )
        assert isinstance(server, TcpWSGIServer)
        server.channel_class = _Channel
        self._server = server
        self._done = threading.Event()
        self.server_address = (host, int(server.effective_port))

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Until `shutdown` (or KeyboardInterrupt, which is how SIGTERM stops `serve`)."""
        try:
            self._server.run()
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Stops accepting and closes every connection, from the server's own loop."""

        def close_all() -> None:
            for dispatcher in list(self._server._map.values()):
                dispatcher.close()

        self._server.trigger.pull_trigger(close_all)
        self._done.wait(5)

    def server_close(self) -> None:
        """Waits for requests in flight (their handlers finish), then frees the threads."""
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.close()


def make_http_server(app: App, host: str, port: int, ops: WSGIApp | None = None) -> HttpServer:
    return HttpServer(SlackWSGI(app, ops), host, port)


def serve_in_thread(
    app: App, host: str = "127.0.0.1", port: int = 0, *, ops: WSGIApp | None = None
) -> tuple[HttpServer, str]:
    """For tests, the demo and benchmarks: the same server, on a free port, in a thread."""
    server = make_http_server(app, host, port, ops)
    start_thread(server)
    return server, f"http://{host}:{server.server_address[1]}{EVENTS_PATH}"


def start_thread(server: HttpServer, name: str = "shipbot-http") -> None:
    """`serve_forever` on a thread of its own (Socket Mode's health port runs so too)."""
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
