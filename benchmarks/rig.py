"""The loopback world a benchmark runs in, and agents that act in it as Slack users do.

FakeSlack (the Web API the bot calls) and the sandbox carrier run in this process; the app
under test runs in a child process (`benchmarks.procs`). Agents build Slack's payloads from
what the FakeSlack recorded (`SlackPayloads`), sign them, and post them over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from benchmarks.procs import AppProcess, start_shipbot
from blocks.ids import CHOOSE_QUOTE
from bot.demo import DOMESTIC, fill_form
from bot.devslack.driver import SlackPayloads
from bot.devslack.server import FakeSlack, Message
from bot.sandbox.server import RunningSandbox, SandboxConfig, start_sandbox

SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"


class BenchmarkFailed(Exception):
    """The app under test did something wrong (a refused request, a lost flow)."""


@dataclass
class Loopback:
    fake: FakeSlack
    sandbox: RunningSandbox
    workdir: Path

    def set_carrier_latency(self, seconds: float) -> None:
        """From now on every carrier call takes `seconds` longer (an armed latency fault)."""
        self.sandbox.clear_faults()
        if seconds > 0:
            self.sandbox.arm_fault(".", "latency", seconds=seconds, count=10**9)


@contextmanager
def loopback(
    *,
    carrier_latency: float = 0.0,
    seed: int = 11,
    rate_limits: bool = False,
    rate_scale: float = 1.0,
) -> Iterator[Loopback]:
    workdir = Path(tempfile.mkdtemp(prefix="shipbot-bench-"))
    sandbox = start_sandbox(SandboxConfig(seed=seed, latency_seconds=carrier_latency))
    fake = FakeSlack(rate_limits=rate_limits, rate_scale=rate_scale).start()
    try:
        yield Loopback(fake, sandbox, workdir)
    finally:
        sandbox.stop()
        fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def shipbot_on(
    world: Loopback, *, workers: int | None = None, extra_env: dict[str, str] | None = None
) -> AppProcess:
    """The real bot as a process (`start_shipbot`) on `world`'s Slack, carrier and workdir."""
    return start_shipbot(
        slack_url=world.fake.url,
        carrier_url=world.sandbox.url,
        secret=SECRET,
        workdir=world.workdir,
        workers=workers,
        extra_env=extra_env,
    )


def start_and_join(threads: list[threading.Thread]) -> None:
    """Start every thread, then wait for every one."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


_TLS: ssl.SSLContext | None = None


def http_client(timeout: float = 30.0) -> httpx.Client:
    """A client for loopback HTTP. The TLS context is built once: httpx builds one per client
    (loading the CA bundle, ~20 ms of CPU), which would load the very machine we measure."""
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return httpx.Client(timeout=timeout, verify=_TLS, trust_env=False)


@dataclass(frozen=True)
class Signed:
    """A request body as Slack would post it; signed when sent."""

    body: str

    def headers(self, secret: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = f"v0:{ts}:{self.body}".encode()
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        return {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }


def payload_body(payload: dict[str, Any]) -> Signed:
    return Signed(urlencode({"payload": json.dumps(payload)}))


class Payloads(SlackPayloads):
    """SlackPayloads, plus a submission built from a modal we already hold.

    `view_submission_payload` looks the view up through `FakeSlack.views`, which copies
    every view the fake holds: fine in a test, quadratic over a benchmark's hundreds.
    """

    def submission(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str
    ) -> dict[str, Any]:
        if not self.fake.is_open(view["id"]):
            raise BenchmarkFailed(f"view {view['id']} is not open; Slack could not submit it")
        self.last_trigger_id = self.fake.issue_trigger(view["id"])
        return {
            **self._common(user),
            "type": "view_submission",
            "trigger_id": self.last_trigger_id,
            "view": {**view, "state": {"values": values}},
            "response_urls": [],
        }


@dataclass
class Sent:
    status: int
    seconds: float
    text: str


def send(client: httpx.Client, url: str, request: Signed, *, timestamp: int | None = None) -> Sent:
    """Post one signed request; `seconds` is send to complete answer, as Slack waits."""
    headers = request.headers(SECRET, timestamp)
    content = request.body.encode()
    started = time.perf_counter()
    response = client.post(url, content=content, headers=headers)
    return Sent(response.status_code, time.perf_counter() - started, response.text)


def poll(what: str, predicate: Callable[[], Any], timeout: float, interval: float = 0.01) -> Any:
    """The predicate's first truthy value; LookupError (not there yet) counts as falsy."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except LookupError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Consignment:
    """One consignment as an agent knows it: from the form, then from the channel."""

    channel: str
    reference: str
    message_ts: str = ""
    quotes_ts: str = ""
    carrier_reference: str = ""
    events: dict[str, float] = field(default_factory=dict)


class Agent:
    """One person in one channel, with a connection of their own."""

    def __init__(
        self, world: Loopback, app_url: str, user: str, channel: str, modals: ModalIndex
    ) -> None:
        self.fake = world.fake
        self.modals = modals
        self.payloads = Payloads(world.fake)
        self.app_url = app_url
        self.user = user
        self.channel = channel
        self.client = http_client()
        world.fake.add_channel(channel, name=f"ship-{channel.lower()}")

    def close(self) -> None:
        self.client.close()

    def post(self, request: Signed) -> Sent:
        sent = send(self.client, self.app_url, request)
        if sent.status != 200:
            raise BenchmarkFailed(f"{self.app_url} answered {sent.status}: {sent.text[:200]}")
        return sent

    # -- what an agent sends ----------------------------------------------------------
    def command(self) -> tuple[Signed, str]:
        """`/ship` with a fresh trigger; the response_url names the modal it opens."""
        form = self.payloads.command_payload("", user=self.user, channel=self.channel)
        return Signed(urlencode(form)), form["response_url"]

    def submission(self, view: dict[str, Any]) -> Signed:
        values = fill_form(view, DOMESTIC)
        return payload_body(self.payloads.submission(view, values, user=self.user))

    def click(self, c: Consignment) -> tuple[Signed, str]:
        """A click on the first (cheapest) quote button of the consignment's thread; and the
        response_url where the bot answers this click, if it has something to say."""
        payload = self.payloads.click_payload(c.channel, c.quotes_ts, CHOOSE_QUOTE, user=self.user)
        return payload_body(payload), str(payload["response_url"])

    def told(self, response_url: str, text: str) -> bool:
        """Whether the bot answered a click with this notice (ephemeral, via response_url)."""
        return any(
            text in json.dumps(r, ensure_ascii=False) for r in self.fake.responses_to(response_url)
        )

    # -- the whole flow, one consignment ---------------------------------------------
    def open_form(self, timeout: float = 10.0) -> dict[str, Any]:
        request, response_url = self.command()
        sent = self.post(request)
        if sent.text.strip():
            raise BenchmarkFailed(f"/ship did not open the form: {sent.text[:200]}")
        return poll("the modal", lambda: self.modals.get(response_url), timeout)

    def submit(self, view: dict[str, Any]) -> Consignment:
        sent = self.post(self.submission(view))
        if sent.text.strip():
            raise BenchmarkFailed(f"the form was refused: {sent.text[:300]}")
        self.fake.apply_view_ack(view["id"], {})
        return Consignment(self.channel, shipper_reference(view))

    def wait_quoted(self, c: Consignment, timeout: float = 30.0) -> Consignment:
        c.message_ts = poll(
            f"the channel message of {c.reference}",
            lambda: channel_message_ts(self.fake, c.channel, c.reference),
            timeout,
        )
        c.quotes_ts = poll(
            f"the quotes of {c.reference}",
            lambda: quotes_ts(self.fake, c.channel, c.message_ts),
            timeout,
        )
        return c


class ModalIndex:
    """The modals opened so far, by the response_url of the `/ship` that opened them.

    Copies each view once (`opened_views(since=...)`): copying them all on every look is
    quadratic, and the copying happens in the process whose fake Slack the bot is waiting on.
    """

    def __init__(self, fake: FakeSlack) -> None:
        self._fake = fake
        self._lock = threading.Lock()
        self._count = 0
        self._by_url: dict[str, dict[str, Any]] = {}

    def get(self, response_url: str) -> dict[str, Any] | None:
        with self._lock:
            if response_url not in self._by_url:
                fresh = self._fake.opened_views(since=self._count)
                self._count += len(fresh)
                for view in fresh:
                    url = _response_url(view)
                    if url:
                        self._by_url[url] = view
            return self._by_url.get(response_url)


def _response_url(view: dict[str, Any]) -> str | None:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    url = meta.get("response_url") if isinstance(meta, dict) else None
    return str(url) if url else None


def shipper_reference(view: dict[str, Any]) -> str:
    for block in view["blocks"]:
        if block.get("block_id") == "shipper_reference":
            return str(block["element"]["initial_value"])
    raise BenchmarkFailed("the modal has no shipper reference")


def channel_message_ts(fake: FakeSlack, channel: str, reference: str) -> str | None:
    for message in fake.messages(channel):
        if reference in json.dumps(message.blocks):
            return message.ts
    return None


def has_quote_buttons(message: Message) -> bool:
    return CHOOSE_QUOTE in json.dumps(message.blocks)


def quotes_ts(fake: FakeSlack, channel: str, message_ts: str) -> str | None:
    for message in fake.thread(channel, message_ts):
        if has_quote_buttons(message):
            return message.ts
    return None


def label_files(fake: FakeSlack) -> dict[str, str]:
    """thread_ts -> carrier reference, for every label PDF uploaded into a thread."""
    return {
        f.thread_ts: f.filename.removesuffix(".pdf")
        for f in fake.files
        if f.thread_ts and f.filename.endswith(".pdf") and f.data.startswith(b"%PDF")
    }
