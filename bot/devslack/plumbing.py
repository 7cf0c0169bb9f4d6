"""The fake Slack's HTTP side: its server, routing, argument parsing and dispatch."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from bot.devslack.chat import ChatMethods
from bot.devslack.files import file_bytes
from bot.devslack.ratelimit import RateLimits, retry_after
from bot.devslack.records import (
    RESPONSE_URL_USES,
    Call,
    Fail,
)

# Arguments slack_sdk sends as JSON strings inside form bodies.
_JSON_ARGS = ("blocks", "view", "files", "attachments", "metadata")
# Methods Slack reads form arguments for: a JSON body reaches them as no arguments at all.
FORM_ONLY = frozenset(
    {
        "chat.getPermalink",
        "conversations.info",
        "conversations.join",
        "conversations.history",
        "conversations.replies",
        "users.info",
        "files.info",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    }
)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.fake._serve(self, b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.fake._serve(self, self.rfile.read(length))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded calls are the log."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under load (benchmarks, many
    # workers), and a dropped SYN is only retried after 1 s: a fake that seems slow.
    request_queue_size = 128
    fake: HttpPlumbing


class HttpPlumbing(ChatMethods, RateLimits):
    """Lifecycle, the /api/, /upload/ and /response/ endpoints."""

    def start(self) -> Self:
        if self._server is None:
            server = Server(self._address, Handler)
            server.fake = self
            self._server = server
            # `stop` waits for the loop's next poll: a short one keeps each test's teardown quick.
            self._thread = threading.Thread(
                target=server.serve_forever, args=(0.01,), name="fake-slack", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def _serve(self, handler: Handler, body: bytes) -> None:
        parts = urlsplit(handler.path)
        try:
            if parts.path.startswith("/api/"):
                self._serve_api(handler, parts.path[5:], parts.query, body)
            elif parts.path.startswith("/upload/"):
                self._serve_upload(handler, parts.path[8:], body)
            elif parts.path.startswith("/response/"):
                self._serve_response(handler, parts.path[10:], body)
            else:
                self._send(handler, 404, b"not found", "text/plain")
        except Exception:
            with self._lock:
                self.notes.append(f"fake crashed on {handler.path}: {traceback.format_exc()}")
            self._send_json(handler, 500, {"ok": False, "error": "fatal_error"})

    def _send(
        self,
        handler: Handler,
        status: int,
        body: bytes,
        ctype: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _send_json(
        self,
        handler: Handler,
        status: int,
        payload: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        self._send(handler, status, body, "application/json; charset=utf-8", extra)

    def _serve_api(self, handler: Handler, method: str, query: str, body: bytes) -> None:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        ctype = handler.headers.get("Content-Type", "")
        json_refused = False
        if body and ctype.startswith("application/json") and method in FORM_ONLY:
            json_refused = True  # Slack reads only form arguments here: the body is unseen
        elif body and ctype.startswith("application/json"):
            try:
                loaded = json.loads(body)
            except ValueError:
                loaded = None
            if not isinstance(loaded, dict):
                self._send_json(handler, 200, {"ok": False, "error": "invalid_json"})
                return
            args.update(loaded)
        elif body:
            args.update(parse_qsl(body.decode(), keep_blank_values=True))
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                # Left as a string when malformed; the method then reports it.
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        auth = handler.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.get("token")
        args.pop("token", None)
        status, payload, headers = self._dispatch(method, token, args, json_refused=json_refused)
        self._send_json(handler, status, payload, headers)

    def _dispatch(
        self, method: str, token: str | None, args: dict[str, Any], *, json_refused: bool = False
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            status, headers, result = 200, {}, {}
            try:
                impl = getattr(self, "_m_" + method.replace(".", "_"), None)
                if impl is None:
                    raise Fail("unknown_method", status=404)
                if not token:
                    raise Fail("not_authed")
                prefix = "xapp-" if method == "apps.connections.open" else "xoxb-"
                if not token.startswith(prefix):
                    raise Fail("invalid_auth")
                if json_refused:
                    raise Fail(
                        "invalid_arguments",
                        f"[ERROR] {method} reads form arguments; a JSON body is not read",
                    )
                fault = self._take_fault(method, args)
                if fault is not None and fault[0] == "ratelimited":
                    headers = {"Retry-After": str(fault[1])}
                    raise Fail("ratelimited", status=429)
                over = self._over_limit(method, args)
                if over is not None:
                    headers = {"Retry-After": retry_after(over, self.rate_scale)}
                    raise Fail("ratelimited", status=429)
                if fault is not None:
                    # "503": Slack having a moment (an HTTP 5xx); else an error code on a 200.
                    status = int(fault[0]) if fault[0].isdigit() else 200
                    raise Fail(fault[0], status=status)
                result = impl(args)
                if prefix == "xoxb-":
                    headers = {"x-oauth-scopes": ",".join(self.scopes)}
                payload: dict[str, Any] = {"ok": True, **result}
                error = None
            except Fail as fail:
                status, error = fail.status, fail.error
                payload = {"ok": False, "error": fail.error}
                if fail.messages:
                    payload["response_metadata"] = {"messages": fail.messages}
            self._calls.append(Call(method, args, time.monotonic(), error is None, error))
            return status, payload, headers

    def _serve_upload(self, handler: Handler, file_id: str, body: bytes) -> None:
        ctype = handler.headers.get("Content-Type", "")
        with self._lock:
            fault = self._take_fault("upload")
            pending = self._pending.get(file_id)
            status = _fault_status(fault[0]) if fault else (200 if pending else 404)
            if pending is not None and status == 200:
                pending.data = file_bytes(ctype, body)
            error = None if status == 200 else str(status)
            args = {"file_id": file_id, "bytes": len(body)}
            self._calls.append(Call("upload", args, time.monotonic(), error is None, error))
        reply = f"OK - {len(pending.data or b'')}" if pending and status == 200 else "upload failed"
        self._send(handler, status, reply.encode(), "text/plain")

    def _serve_response(self, handler: Handler, rid: str, body: bytes) -> None:
        with self._lock:
            status, text = 200, "ok"
            try:
                payload = json.loads(body or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("a response_url body is a JSON object")
                fault = self._take_fault("response")
                bound = self._response_urls.get(rid)
                if fault is not None:
                    raise Fail(fault[0], status=_fault_status(fault[0]))
                if bound is None:
                    raise Fail("no_such_response_url", status=404)
                if bound.refusal is not None:
                    raise Fail(bound.refusal, status=_fault_status(bound.refusal, 404))
                if time.monotonic() - bound.issued > self.response_url_ttl:
                    raise Fail("expired_url", status=404)
                if bound.uses >= RESPONSE_URL_USES:
                    raise Fail("used_url", status=404)
                self._apply_response(bound, payload)
                bound.uses += 1
                self._responses[rid].append(payload)
                error = None
            except Fail as fail:
                status, text, error = fail.status, fail.error, fail.error
                payload = payload if isinstance(payload, dict) else {}
            except ValueError:
                status, text, error, payload = 400, "invalid_payload", "invalid_payload", {}
            self._calls.append(Call("response", payload, time.monotonic(), error is None, error))
        self._send(handler, status, text.encode(), "text/plain")


def _fault_status(error: str, otherwise: int = 500) -> int:
    """Faults on plain HTTP endpoints are statuses; anything else reads as `otherwise` (a
    server error, or a refused response_url's 404)."""
    return int(error) if error.isdigit() else otherwise
