"""FakeSocketMode: a loopback stand-in for Slack's Socket Mode WebSocket, and a driver over it.

The bot's Socket Mode path (slack_sdk's client inside Bolt's `SocketModeHandler`) only runs
for real when something speaks Slack's protocol back: `hello` on connect, envelopes that
must be acked by `envelope_id`, and `disconnect` messages that make the client reconnect
through `apps.connections.open`. Faking the client instead would leave all of that untested.
"""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.devslack.driver import SlackPayloads
from bot.devslack.server import APP_ID, FakeSlack

# Interactive payloads whose ack may carry an answer (`response_action`, options); Slack sets
# `accepts_response_payload` false for the rest, e.g. block_actions and shortcuts.
_ANSWERABLE = {"view_submission", "block_suggestion"}


@dataclass(frozen=True)
class Delivery:
    """One envelope as it went out, and the number of the connection that carried it."""

    connection: int
    envelope: dict[str, Any]


@dataclass
class _Link:
    number: int
    ws: ServerConnection
    retiring: bool = False  # told to go away: no new envelopes
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.ws.send(json.dumps(message))


class FakeSocketMode:
    """Serves ws://127.0.0.1:PORT/link and hands its ticket URLs out through the FakeSlack."""

    def __init__(
        self,
        fake: FakeSlack,
        *,
        app_id: str = APP_ID,
        ping_interval: float = 0.2,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`ping_interval` is short on purpose: besides keeping the link alive, a ping wakes
        slack_sdk's reader, whose `close()` otherwise waits out a 3 s receive timeout."""
        self.fake = fake
        self.app_id = app_id
        self.ping_interval = ping_interval
        self._address = (host, port)
        self._cond = threading.Condition(threading.RLock())
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._accepted = 0
        self._refused = 0
        self._sent: dict[str, dict[str, Any]] = {}  # envelope id -> envelope, in send order
        self._answers: dict[str, dict[str, Any]] = {}  # envelope id -> ack payload
        self._acks: list[dict[str, Any]] = []
        self._deliveries: list[Delivery] = []
        self.notes: list[str] = []  # protocol complaints: stray or duplicate acks, bad frames

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        if self._server is None:
            self._server = serve(
                self._serve,
                *self._address,
                process_request=self._check_ticket,
                compression=None,
                ping_interval=self.ping_interval,
                close_timeout=1,
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-socket-mode", daemon=True
            )
            self._thread.start()
            self.fake.set_socket_url(self.issue_url())
        return self

    def stop(self) -> None:
        """Closes every connection; apps.connections.open then fails as with Socket Mode off."""
        if self._server is not None:
            self.fake.set_socket_url(None)
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The endpoint without a ticket; connecting to it bare is refused, as in Slack."""
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not started")
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link"

    def issue_url(self) -> str:
        """A fresh connectable URL shaped like Slack's `wss://…/link/?ticket=…&app_id=…`."""
        ticket = secrets.token_hex(16)
        with self._cond:
            self._tickets.add(ticket)
        return f"{self.url}/?ticket={ticket}&app_id={self.app_id}"

    # -- state ---------------------------------------------------------------------------
    @property
    def connections(self) -> int:
        """Connections accepted so far (refused handshakes are not counted)."""
        with self._cond:
            return self._accepted

    @property
    def refused(self) -> int:
        with self._cond:
            return self._refused

    @property
    def is_connected(self) -> bool:
        with self._cond:
            return self._live() is not None

    @property
    def acks(self) -> list[dict[str, Any]]:
        """Every ack message received, in order, as the client sent it."""
        with self._cond:
            return copy.deepcopy(self._acks)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return copy.deepcopy(self._deliveries)

    def unacked(self) -> list[str]:
        """Envelope ids sent and not acked (yet), in send order."""
        with self._cond:
            return [eid for eid in self._sent if eid not in self._answers]

    def wait_connected(self, timeout: float = 5.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._live() is not None, timeout):
                raise AssertionError(
                    f"no live Socket Mode connection within {timeout}s "
                    f"({self._accepted} accepted, {self._refused} refused so far)"
                )

    # -- what Slack sends ----------------------------------------------------------------
    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Delivers one envelope on the newest live connection and waits for its ack.

        Returns the ack's payload ({} when the ack had none). An envelope that is never
        acked raises AssertionError: in Slack the user would see the command or the modal
        fail, so a test must not carry on as if it had worked.
        """
        eid = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "type": envelope_type,
            "payload": copy.deepcopy(payload),
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None or retry_reason is not None:
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        deadline = time.monotonic() + timeout
        link = self._deliver(envelope, deadline, timeout)
        with self._cond:
            acked = self._cond.wait_for(
                lambda: eid in self._answers, max(0.0, deadline - time.monotonic())
            )
            if not acked:
                raise AssertionError(
                    f"the app did not ack the {envelope_type} envelope {eid} within {timeout}s "
                    f"(sent on connection #{link.number}); Bolt acks only when a listener "
                    f"answered 200, so look for a missing or failing listener. "
                    f"Payload: {json.dumps(payload, default=str)[:300]}"
                )
            return copy.deepcopy(self._answers[eid])

    def send_command(self, form: dict[str, Any], *, timeout: float = 5.0) -> dict[str, Any]:
        """A slash command; the payload is the command's form fields as a dict."""
        return self.send("slash_commands", form, accepts_response_payload=True, timeout=timeout)

    def send_interactive(
        self,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """block_actions, view_submission, shortcuts...; answerable ones accept a payload."""
        if accepts_response_payload is None:
            accepts_response_payload = payload.get("type") in _ANSWERABLE
        return self.send(
            "interactive",
            payload,
            accepts_response_payload=accepts_response_payload,
            timeout=timeout,
        )

    def send_event(
        self,
        event_callback: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """An Events API `event_callback` envelope; events never take an answer."""
        return self.send(
            "events_api",
            event_callback,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            timeout=timeout,
        )

    def disconnect(self, reason: str = "refresh_requested", *, grace: float = 2.0) -> None:
        """Asks the client to move, then closes its connection, as Slack does.

        Slack leaves the old connection open for a while so the client can reconnect first;
        this waits up to `grace` seconds for the new connection before closing the old one.
        """
        with self._cond:
            link = self._live()
            if link is None:
                raise AssertionError("no live Socket Mode connection to disconnect")
            link.retiring = True
            before = self._accepted
        host = f"applink-fake-{link.number}"
        with contextlib.suppress(ConnectionClosed):
            link.send({"type": "disconnect", "reason": reason, "debug_info": {"host": host}})
        with self._cond:
            self._cond.wait_for(lambda: self._accepted > before or link.closed, grace)
        link.ws.close(reason=reason)

    # -- WebSocket plumbing --------------------------------------------------------------
    def _live(self) -> _Link | None:
        for link in reversed(self._links):
            if not link.closed and not link.retiring:
                return link
        return None

    def _deliver(self, envelope: dict[str, Any], deadline: float, timeout: float) -> _Link:
        eid = envelope["envelope_id"]
        while True:
            with self._cond:
                remaining = max(0.0, deadline - time.monotonic())
                if not self._cond.wait_for(lambda: self._live() is not None, remaining):
                    raise AssertionError(
                        f"no live Socket Mode connection to deliver a {envelope['type']} "
                        f"envelope within {timeout}s ({self._accepted} accepted so far); "
                        "is the SocketModeHandler connected?"
                    )
                link = self._live()
                assert link is not None
                self._sent[eid] = envelope
            try:
                link.send(envelope)
            except ConnectionClosed:
                with self._cond:
                    link.closed = True  # lost on the way: Slack would redeliver elsewhere
                    self._cond.notify_all()
                continue
            with self._cond:
                self._deliveries.append(Delivery(link.number, copy.deepcopy(envelope)))
            return link

    def _check_ticket(self, ws: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != "/link":
            return ws.respond(HTTPStatus.NOT_FOUND, "not found\n")
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._cond:
            if ticket not in self._tickets:
                self._refused += 1
                self.notes.append(f"refused a connection with unknown ticket {ticket!r}")
                return ws.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    def _serve(self, ws: ServerConnection) -> None:
        # Each apps.connections.open after this one hands out a new ticket, like Slack's; set
        # before hello goes out, so a client that reconnects on hello never gets the old one.
        if self._server is not None:
            self.fake.set_socket_url(self.issue_url())
        with self._cond:
            self._accepted += 1
            link = _Link(self._accepted, ws)
            open_now = sum(1 for other in self._links if not other.closed) + 1
            hello = {
                "type": "hello",
                "num_connections": open_now,
                "debug_info": {
                    "host": f"applink-fake-{link.number}",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            # Live before hello goes out, so whoever saw the hello can use the link; holding
            # the link's lock keeps envelopes from overtaking the hello.
            link.lock.acquire()
            self._links.append(link)
            self._cond.notify_all()
        try:
            link.ws.send(json.dumps(hello))
        except ConnectionClosed:
            pass
        finally:
            link.lock.release()
        try:
            for raw in ws:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                link.closed = True
                self._cond.notify_all()

    def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        with self._cond:
            if not isinstance(message, dict) or "envelope_id" not in message:
                self.notes.append(f"not an ack: {raw!r:.200}")
                return
            self._acks.append(message)
            eid = message["envelope_id"]
            envelope = self._sent.get(eid)
            if envelope is None:
                self.notes.append(f"ack for an envelope never sent: {eid}")
            elif eid in self._answers:
                self.notes.append(f"second ack for envelope {eid}")
            else:
                answer = message.get("payload")
                if answer and not envelope["accepts_response_payload"]:
                    self.notes.append(f"{envelope['type']} {eid} does not take a payload; ignored")
                    answer = None
                self._answers[eid] = answer if isinstance(answer, dict) else {}
            self._cond.notify_all()


class SocketDriver(SlackPayloads[dict[str, Any]]):
    """SlackDriver's flow methods over Socket Mode; each returns the ack's payload.

    The payloads are the ones SlackDriver posts over HTTP (built from what the FakeSlack
    recorded), so one flow test can run over either transport.
    """

    def __init__(
        self,
        socket_mode: FakeSocketMode,
        *,
        team_id: str = "T0001",
        api_app_id: str = "A0001",
        timeout: float = 5.0,
    ) -> None:
        super().__init__(socket_mode.fake, team_id=team_id, api_app_id=api_app_id)
        self.socket_mode = socket_mode
        self.timeout = timeout

    # -- transport: each returns the ack's payload ----------------------------------------
    def _deliver_command(self, form: dict[str, str]) -> dict[str, Any]:
        ack = self.socket_mode.send_command(form, timeout=self.timeout)
        if ack:
            self.fake.apply_command_ack(form["channel_id"], form["user_id"], ack)
        return ack

    def _deliver_view(self, payload: dict[str, Any]) -> dict[str, Any]:
        ack = self.socket_mode.send_interactive(payload, timeout=self.timeout)
        self.fake.apply_view_ack(payload["view"]["id"], ack)
        return ack

    def _deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.socket_mode.send_interactive(payload, timeout=self.timeout)

    def _deliver_event(
        self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str | None
    ) -> dict[str, Any]:
        """Over Socket Mode retries travel in the envelope, not in HTTP headers."""
        return self.socket_mode.send_event(
            envelope,
            retry_attempt=retry_num or 0,
            retry_reason=retry_reason or "",
            timeout=self.timeout,
        )
