"""FakeSlack: a loopback Slack Web API that enforces the rules real Slack enforces.

Tests, the demo and benchmarks point a real `WebClient` at it (`base_url=fake.url`), so the
bot's own code runs unchanged. It refuses what Slack refuses (stale or reused trigger ids,
Block Kit over its limits, posting where the bot is not a member, stale view hashes) because
a fake that accepts everything hides exactly the bugs that show up in production.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.pacing import PER_CHANNEL, TIERS, Bucket, Rate

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
TEAM_NAME = "Demo Team"
TEAM_DOMAIN = "demo"
APP_ID = "A0001"
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
VIEW_STACK_MAX = 3
VIEW_MAX_BYTES = 250_000
RESPONSE_URL_USES = 5
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
# Slack lets short bursts through; the bot's own pacing (bot/pacing.py) uses less.
FAKE_BURST = {"chat.postMessage": 4}


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


# Known up front so unknown types are refused without slack_sdk logging "Unknown block".
_BLOCK_TYPES = {t for c in _all_subclasses(Block) if isinstance(t := getattr(c, "type", None), str)}


class _Fail(Exception):
    def __init__(self, error: str, *messages: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.status = status


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    ok: bool
    error: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str  # "" when the message has only blocks or files, as in Slack
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    files: list[dict[str, Any]] = field(default_factory=list)
    # Every version of the content, the original first and the current one last.
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The message as Slack shows it in API answers and interaction payloads."""
        out: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "team": TEAM_ID,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = APP_ID
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = copy.deepcopy(self.files)
        return out


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    message_ts: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    title: str
    data: bytes
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None  # the file-share message the fake posted


@dataclass
class _Channel:
    id: str
    name: str
    private: bool = False
    member: bool = True

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.private,
            "is_group": self.private,
            "is_private": self.private,
            "is_member": self.member,
            "is_archived": False,
        }


@dataclass
class _Trigger:
    issued_at: float
    view_id: str | None
    used: bool = False


@dataclass
class _Pending:
    id: str
    filename: str
    length: int
    data: bytes | None = None


@dataclass
class _ResponseUrl:
    channel: str | None
    message_ts: str | None
    user: str | None
    uses: int = 0


def _block_problem(block: Any) -> str | None:
    if not isinstance(block, dict):
        return "block must be an object"
    if block.get("type") not in _BLOCK_TYPES:
        return f"unsupported type: {block.get('type')!r}"
    try:
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            return f"unsupported type: {block.get('type')!r}"
        parsed.to_dict()
    except SlackObjectFormationError as e:
        return str(e)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        return f"malformed block: {e}"
    return None


def _check_blocks(blocks: Any, limit: int, error: str, pointer: str) -> list[dict[str, Any]]:
    if isinstance(blocks, str):
        raise _Fail("invalid_blocks_format", f"[ERROR] blocks are not valid JSON [{pointer}]")
    if not isinstance(blocks, list):
        raise _Fail("invalid_blocks_format", f"[ERROR] blocks must be an array [{pointer}]")
    if len(blocks) > limit:
        raise _Fail(error, f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    problems: list[str] = []
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        problem = _block_problem(block)
        if problem is None and (bid := block.get("block_id")) is not None:
            problem = f"duplicate block_id {bid!r}" if bid in seen else None
            seen.add(bid)
        if problem:
            problems.append(f"[ERROR] {problem} [json-pointer:{pointer}/{i}]")
    if problems:
        raise _Fail(error, *problems)
    return copy.deepcopy(blocks)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._serve(self, b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.fake._serve(self, self.rfile.read(length))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded calls are the log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under load (benchmarks, many
    # workers), and a dropped SYN is only retried after 1 s: a fake that seems slow.
    request_queue_size = 128
    fake: FakeSlack


class FakeSlack:
    """`rate_limits=True` enforces Slack's published limits (bot/pacing.py's table: per method
    per workspace, chat.postMessage per channel) with 429 and Retry-After; `rate_scale` runs
    them that many times faster (a test sees the same shape in a fraction of the time)."""

    def __init__(
        self,
        *,
        trigger_ttl: float = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = False,
        rate_scale: float = 1.0,
    ) -> None:
        self.trigger_ttl = trigger_ttl
        self.rate_limits = rate_limits
        self.rate_scale = rate_scale
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._address = (host, port)
        self._lock = threading.RLock()
        self._rand = random.Random(1700)  # deterministic ids make demo transcripts repeatable
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket_url: str | None = None
        self._ts = 1_700_000_000_000_000
        self._calls: list[Call] = []
        self._channels: dict[str, _Channel] = {}
        self._messages: dict[str, list[Message]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._pending: dict[str, _Pending] = {}
        self._files: list[UploadedFile] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._opened: list[str] = []
        self._stacks: dict[str, list[str]] = {}  # root view id -> open views, bottom first
        self._home: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._responses: dict[str, list[dict[str, Any]]] = {}
        self._faults: dict[str, list[tuple[str, int]]] = {}  # method -> [(error, retry_after)]
        self.notes: list[str] = []  # advice and internal errors, instead of Python warnings

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeSlack:
        if self._server is None:
            server = _Server(self._address, _Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
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

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    # -- set-up and fault switches -------------------------------------------------------
    def add_channel(
        self,
        channel_id: str,
        *,
        private: bool = False,
        member: bool = True,
        name: str | None = None,
    ) -> None:
        with self._lock:
            self._channels[channel_id] = _Channel(
                channel_id, name or f"chan-{channel_id.lower()}", private, member
            )

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            return self._channel(channel_id).name

    def set_socket_url(self, url: str | None) -> None:
        with self._lock:
            self._socket_url = url

    def fail_next(self, method: str, error: str, *, count: int = 1) -> None:
        """`error` is a Slack error code; for "upload" and "response" it is an HTTP status."""
        with self._lock:
            self._faults.setdefault(method, []).extend([(error, -1)] * count)

    def ratelimit_next(self, method: str, *, retry_after: int = 1, count: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend([("ratelimited", retry_after)] * count)

    def ratelimited(self) -> list[Call]:
        """Every call answered 429 by the enforced limits or an armed fault."""
        return [c for c in self.calls if c.error == "ratelimited"]

    def _over_limit(self, method: str, args: dict[str, Any]) -> float | None:
        """Seconds until `method` may be called again; None when this call may go."""
        if not self.rate_limits or method not in TIERS:
            return None
        rate = TIERS[method]
        rate = Rate(rate.per_minute, max(rate.burst * 2, FAKE_BURST.get(method, 0)))
        channel = str(args.get("channel") or "") if method in PER_CHANNEL else ""
        bucket = self._buckets.get((method, channel))
        if bucket is None:
            bucket = self._buckets[(method, channel)] = Bucket(rate, self.rate_scale)
        wait = bucket.wait()
        if wait > 0:
            return wait
        bucket.take()
        return None

    def issue_trigger(self, view_id: str | None = None) -> str:
        """A trigger as Slack puts in an interaction; `view_id` when it came from a modal."""
        with self._lock:
            tid = f"{len(self._triggers) + 1}.{self._rand.randrange(10**9)}.{self._hex(16)}"
            self._triggers[tid] = _Trigger(time.monotonic(), view_id)
            return tid

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """A response_url; bound to the message a click came from, so replace_original works."""
        with self._lock:
            rid = self._hex(12)
            self._response_urls[rid] = _ResponseUrl(channel, message_ts, user)
            self._responses[rid] = []
            return f"{self.base}/response/{rid}"

    # -- records -------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages in post order, as they are now."""
        with self._lock:
            found = self._messages.get(channel, [])
            return [copy.deepcopy(m) for m in found if m.thread_ts is None and not m.deleted]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        with self._lock:
            found = self._messages.get(channel, [])
            return [
                copy.deepcopy(m)
                for m in found
                if m.thread_ts == thread_ts and m.ts != thread_ts and not m.deleted
            ]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            msg = self._find(channel, ts)
            if msg is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(msg)

    @property
    def ephemerals(self) -> list[Ephemeral]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def files(self) -> list[UploadedFile]:
        with self._lock:
            return copy.deepcopy(self._files)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._views)

    def opened_views(self, since: int = 0) -> list[dict[str, Any]]:
        """Views from views.open and views.push, in order, each as it is now; `since` skips
        the first ones (a benchmark polling for new modals need not copy them all again)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._opened[since:]]

    def is_open(self, view_id: str) -> bool:
        with self._lock:
            return any(view_id in stack for stack in self._stacks.values())

    @property
    def home_views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._home)

    @property
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return copy.deepcopy(self._responses)

    def responses_to(self, response_url: str) -> list[dict[str, Any]]:
        return self.responses.get(response_url.rstrip("/").rsplit("/", 1)[-1], [])

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll `predicate`; a LookupError in it (no such message yet) counts as "not yet"."""
        deadline = time.monotonic() + timeout
        last: LookupError | None = None
        while True:
            try:
                if predicate():
                    return
            except LookupError as e:
                last = e
            if time.monotonic() > deadline:
                why = f" (last: {last!r})" if last else ""
                raise AssertionError(f"condition not met within {timeout}s{why}\n{self.dump()}")
            time.sleep(0.01)

    def dump(self) -> str:
        """What the fake saw, for failure messages."""
        with self._lock:
            lines = ["calls (last 30):"]
            for c in self._calls[-30:]:
                outcome = "ok" if c.ok else c.error
                lines.append(f"  {c.method} -> {outcome} {json.dumps(c.args, default=str)[:200]}")
            for channel, msgs in self._messages.items():
                lines.append(f"channel {channel}: {len(msgs)} messages")
                for m in msgs[-10:]:
                    where = f"thread {m.thread_ts}" if m.thread_ts else "top"
                    lines.append(f"  {m.ts} [{where}] {(m.text or '')[:100]!r}")
            lines.append(f"views: {list(self._views)}; files: {[f.id for f in self._files]}")
            lines.extend(f"note: {n}" for n in self.notes[-10:])
            return "\n".join(lines)

    # -- view acks (applied by the driver, as Slack applies a view_submission's answer) ----
    def apply_view_ack(self, view_id: str, ack: dict[str, Any]) -> None:
        """Recorded as a "view_ack" call; a bad view in the ack fails it like Slack would."""
        with self._lock:
            error = None
            try:
                stack = self._stack_of(view_id)
                action = ack.get("response_action")
                if action == "update":
                    view = self._check_view(ack.get("view"), {"modal"})
                    self._views[view_id] = self._stored_view(view, view_id, self._views[view_id])
                elif action == "push":
                    if len(stack) >= VIEW_STACK_MAX:
                        raise _Fail("push_limit_reached")
                    self._push(self._check_view(ack.get("view"), {"modal"}), stack)
                elif action == "clear":
                    stack.clear()
                elif action != "errors" and view_id in stack:
                    del stack[stack.index(view_id) :]
            except _Fail as fail:
                error = fail.error
                self.notes.append(f"view ack refused: {fail.error} {fail.messages}")
            args = {"view_id": view_id, **ack}
            self._calls.append(Call("view_ack", args, time.monotonic(), error is None, error))

    def apply_command_ack(self, channel: str, user: str, ack: dict[str, Any]) -> None:
        """A slash command's HTTP answer (Bolt's `ack(text)`), shown as Slack shows it."""
        with self._lock:
            error = None
            try:
                self._apply_response(_ResponseUrl(channel, None, user), ack)
            except _Fail as fail:
                error = fail.error
            args = {"channel": channel, "user": user, **ack}
            self._calls.append(Call("command_ack", args, time.monotonic(), error is None, error))

    # -- HTTP plumbing -------------------------------------------------------------------
    def _serve(self, handler: _Handler, body: bytes) -> None:
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
        handler: _Handler,
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
        handler: _Handler,
        status: int,
        payload: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        self._send(handler, status, body, "application/json; charset=utf-8", extra)

    def _serve_api(self, handler: _Handler, method: str, query: str, body: bytes) -> None:
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
                    raise _Fail("unknown_method", status=404)
                if not token:
                    raise _Fail("not_authed")
                prefix = "xapp-" if method == "apps.connections.open" else "xoxb-"
                if not token.startswith(prefix):
                    raise _Fail("invalid_auth")
                if json_refused:
                    raise _Fail(
                        "invalid_arguments",
                        f"[ERROR] {method} reads form arguments; a JSON body is not read",
                    )
                fault = self._take_fault(method)
                if fault is not None and fault[0] == "ratelimited":
                    headers = {"Retry-After": str(fault[1])}
                    raise _Fail("ratelimited", status=429)
                over = self._over_limit(method, args)
                if over is not None:
                    headers = {"Retry-After": _retry_after(over, self.rate_scale)}
                    raise _Fail("ratelimited", status=429)
                if fault is not None:
                    raise _Fail(fault[0])
                result = impl(args)
                payload: dict[str, Any] = {"ok": True, **result}
                error = None
            except _Fail as fail:
                status, error = fail.status, fail.error
                payload = {"ok": False, "error": fail.error}
                if fail.messages:
                    payload["response_metadata"] = {"messages": fail.messages}
            self._calls.append(Call(method, args, time.monotonic(), error is None, error))
            return status, payload, headers

    def _take_fault(self, method: str) -> tuple[str, int] | None:
        queue = self._faults.get(method)
        return queue.pop(0) if queue else None

    def _serve_upload(self, handler: _Handler, file_id: str, body: bytes) -> None:
        ctype = handler.headers.get("Content-Type", "")
        with self._lock:
            fault = self._take_fault("upload")
            pending = self._pending.get(file_id)
            status = _fault_status(fault[0]) if fault else (200 if pending else 404)
            if pending is not None and status == 200:
                pending.data = _file_bytes(ctype, body)
            error = None if status == 200 else str(status)
            args = {"file_id": file_id, "bytes": len(body)}
            self._calls.append(Call("upload", args, time.monotonic(), error is None, error))
        reply = f"OK - {len(pending.data or b'')}" if pending and status == 200 else "upload failed"
        self._send(handler, status, reply.encode(), "text/plain")

    def _serve_response(self, handler: _Handler, rid: str, body: bytes) -> None:
        with self._lock:
            status, text = 200, "ok"
            try:
                payload = json.loads(body or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("a response_url body is a JSON object")
                fault = self._take_fault("response")
                bound = self._response_urls.get(rid)
                if fault is not None:
                    raise _Fail(fault[0], status=_fault_status(fault[0]))
                if bound is None:
                    raise _Fail("no_such_response_url", status=404)
                if bound.uses >= RESPONSE_URL_USES:
                    raise _Fail("used_url", status=404)
                self._apply_response(bound, payload)
                bound.uses += 1
                self._responses[rid].append(payload)
                error = None
            except _Fail as fail:
                status, text, error = fail.status, fail.error, fail.error
                payload = payload if isinstance(payload, dict) else {}
            except ValueError:
                status, text, error, payload = 400, "invalid_payload", "invalid_payload", {}
            self._calls.append(Call("response", payload, time.monotonic(), error is None, error))
        self._send(handler, status, text.encode(), "text/plain")

    def _apply_response(self, bound: _ResponseUrl, payload: dict[str, Any]) -> None:
        """What Slack does with a response_url post: edit the source message or post anew."""
        original = self._find(bound.channel, bound.message_ts) if bound.message_ts else None
        if payload.get("delete_original") and original is not None:
            original.deleted = True
            return
        text, blocks = self._content(payload, status=400)
        if payload.get("replace_original") and original is not None:
            self._edit(original, text, blocks, replace_text=True, replace_blocks=True)
        elif bound.channel and payload.get("response_type") == "in_channel":
            self._post(bound.channel, text, blocks, payload.get("thread_ts"))
        elif bound.channel and bound.user:
            self._ephemerals.append(
                Ephemeral(
                    bound.channel,
                    bound.user,
                    text,
                    blocks,
                    payload.get("thread_ts"),
                    self._next_ts(),
                )
            )

    # -- helpers -------------------------------------------------------------------------
    def _hex(self, n: int) -> str:
        return "".join(self._rand.choice("0123456789abcdef") for _ in range(n))

    def _id(self, prefix: str) -> str:
        return prefix + "".join(
            self._rand.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10)
        )

    def _next_ts(self) -> str:
        self._ts += 100
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _channel(self, channel_id: str) -> _Channel:
        if channel_id not in self._channels:
            self._channels[channel_id] = _Channel(channel_id, f"chan-{channel_id.lower()}")
        return self._channels[channel_id]

    def _member_channel(self, channel_id: Any) -> _Channel:
        if not channel_id or not isinstance(channel_id, str):
            raise _Fail("channel_not_found")
        channel = self._channel(channel_id)
        if not channel.member:
            raise _Fail("not_in_channel")
        return channel

    def _find(self, channel: str | None, ts: str | None) -> Message | None:
        for msg in self._messages.get(channel or "", []):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def _content(
        self, args: dict[str, Any], *, status: int = 200
    ) -> tuple[str, list[dict[str, Any]]]:
        text = str(args.get("text") or "")
        blocks: list[dict[str, Any]] = []
        if args.get("blocks") is not None:
            try:
                blocks = _check_blocks(
                    args["blocks"], MESSAGE_BLOCKS_MAX, "invalid_blocks", "/blocks"
                )
            except _Fail as fail:
                fail.status = status
                raise
        if not text and not blocks:
            raise _Fail("no_text", status=status)
        if blocks and not text:
            self.notes.append("message with blocks but no top-level text (notification fallback)")
        return text, self._with_block_ids(blocks)

    def _with_block_ids(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Slack fills in a block_id where the app gave none; clicks then carry it."""
        for block in blocks:
            block.setdefault(
                "block_id", "".join(self._rand.choices("abcdefghijkmnopqrstuvwxyz", k=5))
            )
        return blocks

    def _post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: Any
    ) -> Message:
        if thread_ts:
            parent = self._find(channel, str(thread_ts))
            if parent is None:
                raise _Fail("thread_not_found")  # Slack posts into nowhere; the fake refuses
            thread_ts = parent.thread_ts or parent.ts
        msg = Message(channel, self._next_ts(), text, blocks, thread_ts or None)
        msg.history.append({"text": text, "blocks": copy.deepcopy(blocks)})
        self._messages.setdefault(channel, []).append(msg)
        return msg

    def _edit(
        self,
        msg: Message,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        replace_text: bool,
        replace_blocks: bool,
    ) -> None:
        if replace_text:
            msg.text = text
        if replace_blocks:
            msg.blocks = blocks
        msg.history.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks)})

    def _use_trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise _Fail("invalid_trigger_id")
        if trigger.used:
            raise _Fail("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_ttl:
            raise _Fail("expired_trigger_id")
        return trigger

    def _check_view(self, view: Any, kinds: set[str]) -> dict[str, Any]:
        """Slack answers invalid_arguments (not invalid_blocks) for a bad view."""
        if not isinstance(view, dict):
            raise _Fail(
                "invalid_arguments", "[ERROR] view must be a JSON object [json-pointer:/view]"
            )
        if view.get("type") not in kinds:
            want = " or ".join(sorted(kinds))
            raise _Fail(
                "invalid_arguments", f"[ERROR] type must be {want} [json-pointer:/view/type]"
            )
        if len(json.dumps(view)) > VIEW_MAX_BYTES:
            raise _Fail("view_too_large")
        blocks = _check_blocks(
            view.get("blocks"), VIEW_BLOCKS_MAX, "invalid_arguments", "/view/blocks"
        )
        try:
            View(**copy.deepcopy(view)).to_dict()
        except SlackObjectFormationError as e:
            raise _Fail("invalid_arguments", f"[ERROR] {e} [json-pointer:/view]") from None
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise _Fail("invalid_arguments", f"[ERROR] malformed view: {e}") from None
        inputs = any(b.get("type") == "input" for b in blocks)
        if view["type"] == "modal" and inputs and not view.get("submit"):
            raise _Fail("invalid_arguments", "[ERROR] must define submit to use input block")
        return {**copy.deepcopy(view), "blocks": self._with_block_ids(blocks)}

    def _stored_view(
        self, view: dict[str, Any], view_id: str, previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        stored = {
            "callback_id": "",
            "external_id": "",
            "private_metadata": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._hex(8)}",
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": previous.get("previous_view_id") if previous else None,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        return stored

    def _push(self, view: dict[str, Any], stack: list[str]) -> dict[str, Any]:
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id for v in self._views.values()):
            raise _Fail("duplicate_external_id")
        view_id = self._id("V")
        stored = self._stored_view(view, view_id, None)
        if stack:
            stored["root_view_id"], stored["previous_view_id"] = stack[0], stack[-1]
        else:
            self._stacks[view_id] = stack
        stack.append(view_id)
        self._views[view_id] = stored
        self._opened.append(view_id)
        return stored

    def _stack_of(self, view_id: str) -> list[str]:
        view = self._views.get(view_id)
        if view is None:
            raise _Fail("not_found")
        return self._stacks.setdefault(view["root_view_id"], [])

    # -- Web API methods (each returns the answer's fields besides "ok") --------------------
    def _m_auth_test(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "shipbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if self._socket_url is None:
            raise _Fail("socket_mode_not_enabled", "[ERROR] call set_socket_url() on the fake")
        return {"url": self._socket_url}

    def _m_views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("trigger_id") or not a.get("view"):
            raise _Fail("invalid_arguments", "[ERROR] trigger_id and view are required")
        trigger = self._use_trigger(a["trigger_id"])
        stored = self._push(self._check_view(a["view"], {"modal"}), [])
        trigger.used = True
        return {"view": copy.deepcopy(stored)}

    def _m_views_push(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("trigger_id") or not a.get("view"):
            raise _Fail("invalid_arguments", "[ERROR] trigger_id and view are required")
        trigger = self._use_trigger(a["trigger_id"])
        if trigger.view_id is None or not self.is_open(trigger.view_id):
            raise _Fail("invalid_arguments", "[ERROR] trigger_id must come from an open modal")
        stack = self._stack_of(trigger.view_id)
        if len(stack) >= VIEW_STACK_MAX:
            raise _Fail("push_limit_reached")
        stored = self._push(self._check_view(a["view"], {"modal"}), stack)
        trigger.used = True
        return {"view": copy.deepcopy(stored)}

    def _m_views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        view_id = a.get("view_id")
        if not view_id and a.get("external_id"):
            matches = [
                k for k, v in self._views.items() if v.get("external_id") == a["external_id"]
            ]
            view_id = matches[0] if matches else None
            if view_id is None:
                raise _Fail("not_found")
        if not view_id or not a.get("view"):
            raise _Fail("invalid_arguments", "[ERROR] view and view_id or external_id are required")
        current = self._views.get(view_id)
        if current is None or not self.is_open(view_id):
            raise _Fail("not_found")
        if a.get("hash") and a["hash"] != current["hash"]:
            raise _Fail("hash_conflict")
        stored = self._stored_view(self._check_view(a["view"], {"modal"}), view_id, current)
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _m_views_publish(self, a: dict[str, Any]) -> dict[str, Any]:
        user = a.get("user_id")
        if not user or not a.get("view"):
            raise _Fail("invalid_arguments", "[ERROR] user_id and view are required")
        current = self._home.get(user)
        if a.get("hash") and (current is None or a["hash"] != current["hash"]):
            raise _Fail("hash_conflict")
        view = self._check_view(a["view"], {"home"})
        stored = self._stored_view(view, current["id"] if current else self._id("V"), None)
        self._home[user] = stored
        return {"view": copy.deepcopy(stored)}

    def _m_chat_postMessage(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(a.get("channel")).id
        text, blocks = self._content(a)
        msg = self._post(channel, text, blocks, a.get("thread_ts"))
        return {"channel": channel, "ts": msg.ts, "message": msg.to_dict()}

    def _m_chat_update(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise _Fail("channel_not_found")
        msg = self._find(a["channel"], a.get("ts"))
        if msg is None or msg.user != BOT_USER_ID:
            raise _Fail("message_not_found" if msg is None else "cant_update_message")
        if a.get("text") is None and a.get("blocks") is None:
            raise _Fail("no_text")
        blocks: list[dict[str, Any]] = []
        if a.get("blocks") is not None:
            blocks = self._with_block_ids(
                _check_blocks(a["blocks"], MESSAGE_BLOCKS_MAX, "invalid_blocks", "/blocks")
            )
        # Omitted fields keep their old value, as in Slack.
        self._edit(
            msg,
            str(a.get("text") or ""),
            blocks,
            replace_text=a.get("text") is not None,
            replace_blocks=a.get("blocks") is not None,
        )
        return {"channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": msg.to_dict()}

    def _m_chat_postEphemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(a.get("channel")).id
        if not a.get("user"):
            raise _Fail("user_not_in_channel")
        text, blocks = self._content(a)
        ts = self._next_ts()
        self._ephemerals.append(Ephemeral(channel, a["user"], text, blocks, a.get("thread_ts"), ts))
        return {"message_ts": ts}

    def _m_chat_getPermalink(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise _Fail("channel_not_found")
        msg = self._find(a["channel"], a.get("message_ts"))
        if msg is None:
            raise _Fail("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{msg.channel}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts:
            link += f"?thread_ts={msg.thread_ts}&cid={msg.channel}"
        return {"channel": msg.channel, "permalink": link}

    def _m_conversations_join(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise _Fail("channel_not_found")
        channel = self._channel(a["channel"])
        if channel.private:
            raise _Fail("method_not_supported_for_channel_type")
        channel.member = True
        return {"channel": channel.info()}

    def _m_conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        """A DM with one user (`users`): the bot's D… conversation, where it is a member."""
        users = [u for u in str(a.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0][:1] not in ("U", "W"):
            raise _Fail("users_not_found" if users else "invalid_arguments")
        dm_id = "D" + users[0][1:]
        if dm_id not in self._channels:
            self._channels[dm_id] = _Channel(dm_id, f"dm-{users[0].lower()}", private=True)
        return {"channel": {"id": dm_id, "is_im": True, "user": users[0]}}

    def _m_conversations_info(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise _Fail("channel_not_found")
        return {"channel": self._channel(a["channel"]).info()}

    def _m_files_getUploadURLExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(a.get("length", ""))
        except ValueError:
            length = 0
        if not a.get("filename") or length <= 0:
            raise _Fail("invalid_arguments", "[ERROR] filename and a positive length are required")
        file_id = self._id("F")
        self._pending[file_id] = _Pending(file_id, a["filename"], length)
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        files = a.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise _Fail("invalid_arguments", "[ERROR] files must be a JSON array of {id, title}")
        targets = [a["channel_id"]] if a.get("channel_id") else []
        targets += [c for c in str(a.get("channels") or "").split(",") if c]
        thread_ts = a.get("thread_ts") or None
        if thread_ts and len(targets) != 1:
            raise _Fail("invalid_arguments", "[ERROR] thread_ts needs exactly one channel")
        pending: list[_Pending] = []
        for f in files:
            p = self._pending.get(str(f.get("id")))
            if p is None or p.data is None:
                raise _Fail("file_not_found", f"[ERROR] no uploaded bytes for {f.get('id')}")
            if len(p.data) != p.length:
                raise _Fail(
                    "invalid_arguments",
                    f"[ERROR] {p.id}: declared {p.length} bytes, received {len(p.data)}",
                )
            pending.append(p)
        for channel_id in targets:
            if channel_id[:1] in ("U", "W"):
                raise _Fail("channel_not_found", "[ERROR] use a conversation id, not a user id")
            self._member_channel(channel_id)
            if thread_ts:
                parent = self._find(channel_id, thread_ts)
                if parent is None or parent.thread_ts is not None:
                    raise _Fail("invalid_thread_ts", "[ERROR] thread_ts must be a parent message")
        answer = []
        comment = a.get("initial_comment") or None
        # One message shares every file of the call, with the comment as its text.
        shares = [
            self._post(channel_id, comment or "", [], thread_ts) for channel_id in targets[:1]
        ]
        for f, p in zip(files, pending, strict=True):
            title = f.get("title") or p.filename
            info = {"id": p.id, "name": p.filename, "title": title, "size": p.length}
            uploaded = UploadedFile(p.id, p.filename, title, p.data or b"", initial_comment=comment)
            for share in shares:
                share.files.append(dict(info))
                uploaded.channel_id, uploaded.thread_ts = share.channel, thread_ts
                uploaded.message_ts = share.ts
            del self._pending[p.id]
            self._files.append(uploaded)
            answer.append(info)  # no "shares": real sharing is asynchronous, never rely on it
        return {"files": answer}


def _retry_after(seconds: float, scale: float) -> str:
    """Whole seconds, as Slack sends; a sped-up fake sends tenths (our client reads floats)."""
    if scale == 1.0:
        return str(max(1, math.ceil(seconds)))
    return f"{max(0.1, math.ceil(seconds * 10) / 10):.1f}"


def _fault_status(error: str) -> int:
    """Faults on plain HTTP endpoints are statuses; anything else reads as a server error."""
    return int(error) if error.isdigit() else 500


def _file_bytes(content_type: str, body: bytes) -> bytes:
    """The file from an upload POST: slack_sdk sends raw bytes; browsers send multipart."""
    if not content_type.startswith("multipart/form-data"):
        return body
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_filename() or part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return body
