"""What sits in front of the API, as Azure API Management sits in front of Sorted's.

It checks the subscription key, logs each API call, and applies armed faults and the
configured latency. Control endpoints (`/__sandbox/...`) pass straight through: they are
not part of the wire, need no key and are neither logged nor faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.sandbox import render
from bot.sandbox.errors import ApiProblem
from bot.sandbox.faults import Fault, FaultBook
from bot.sandbox.requestlog import RequestLog

CONTROL_PREFIX = "/__sandbox/"
KEY_HEADER = b"ocp-apim-subscription-key"
MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)


def _seconds_header(seconds: float) -> bytes:
    return f"{seconds:g}".encode()


class Gateway:
    def __init__(
        self,
        api: ASGIApp,
        *,
        api_key: str | None,
        latency_seconds: float,
        faults: FaultBook,
        log: RequestLog,
        correlation_id: Callable[[], str],
    ) -> None:
        self.api = api
        self.api_key = api_key
        self.latency_seconds = latency_seconds
        self.faults = faults
        self.log = log
        self._correlation_id = correlation_id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.api(scope, receive, send)
            return
        self._loop = asyncio.get_running_loop()
        method, path = scope["method"], scope["path"]
        entry = self.log.start(method, path, scope.get("query_string", b"").decode("latin-1"))
        started = time.perf_counter()
        status: int | None = None

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.log.update(entry, status=status)
            await send(message)

        try:
            refusal = self._check_key(scope)
            if refusal is not None:
                await _send_json(logged_send, 401, refusal)
                return
            fault = self.faults.take(method, path)
            if fault is not None:
                self.log.update(entry, fault=fault.kind)
            # Read the request before any pause, as a gateway does: a client that gives up
            # while the backend is slow has still delivered its request, which then runs.
            receive = await _buffered(receive)
            await self._pause(self.latency_seconds)
            await self._apply(fault, entry, scope, receive, logged_send)
        finally:
            self.log.update(entry, ms=round((time.perf_counter() - started) * 1000, 1))

    def _fault_body(self, fault: Fault) -> dict[str, Any]:
        if fault.status == 429:  # throttling comes from the gateway, in its own shape
            wait = f"{fault.retry_after:g}" if fault.retry_after is not None else "a few"
            return {
                "statusCode": 429,
                "message": f"Rate limit is exceeded. Try again in {wait} seconds.",
            }
        message = f"Sandbox fault: HTTP {fault.status} armed for {fault.path.pattern}"
        return render.error(
            ApiProblem(fault.status, "InjectedFault", message), self._correlation_id()
        )

    def _check_key(self, scope: Scope) -> dict[str, Any] | None:
        key = next((v for k, v in scope["headers"] if k == KEY_HEADER), b"").decode("latin-1")
        if not key.strip():
            return {"statusCode": 401, "message": MISSING_KEY}
        if self.api_key is not None and key != self.api_key:
            return {"statusCode": 401, "message": INVALID_KEY}
        return None

    async def _apply(
        self,
        fault: Fault | None,
        entry: dict[str, Any],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        if fault is None:
            await self.api(scope, receive, send)
        elif fault.kind == "latency":
            await self._pause(fault.seconds)
            await self.api(scope, receive, send)
        elif fault.kind == "status":
            headers = []
            if fault.retry_after is not None:
                headers.append((b"retry-after", _seconds_header(fault.retry_after)))
            await _send_json(send, fault.status, self._fault_body(fault), headers)
        else:
            # A lost reply: the request takes effect, the answer comes too late to matter.
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.api(scope, receive, hold)
            start = next(m for m in held if m["type"] == "http.response.start")
            self.log.update(entry, status=start["status"])
            await self._pause(fault.seconds)
            for message in held:
                await send(message)

    async def _pause(self, seconds: float) -> None:
        """Sleeps without blocking other requests; cut short when the server stops."""
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def wake_sleepers(self) -> None:
        """From any thread: end every pause now, so shutdown need not wait for them."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stopping.set)


async def _buffered(receive: Receive) -> Receive:
    """Reads the whole body now; the app then gets it from memory, whatever the client does."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left before sending it all: the app sees what arrived
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


async def _send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
