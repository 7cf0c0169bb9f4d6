"""Security over real HTTP: body limit, forged requests, logs free of recipients' details,
listener failures that never close a modal silently, and Slack errors a retry can't fix."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from blocks.form_fields import field, modal, section, text_input
from bot.app import Shipbot
from bot.models import Step
from bot.slack.http import MAX_BODY_BYTES
from tests.form_states import EXAMPLE_SHIPMENT, example_state
from tests.harness import AGENT, CHANNEL, Harness

# What a recipient's details look like in a log, if they got there.
RECIPIENT = [
    "Rosa Customer",
    "rosa@example.com",
    "+44 20 7946 0000",
    "7946 0000",
    "10 Downing Street",
    "Downing",
]


def rss_kib() -> int:
    """This process's resident set (the server runs in a thread of it), from /proc."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def raw_post(url: str, headers: dict[str, str], body_bytes: int) -> bytes:
    """POSTs over a plain socket, streaming `body_bytes` of body from another thread while
    this one reads the answer: like an attacker who doesn't wait to be refused."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    chunk = b"x" * (1 << 20)

    def send() -> None:
        sent = 0
        try:
            while sent < body_bytes:
                n = min(len(chunk), body_bytes - sent)
                sock.sendall(chunk[:n])
                sent += n
        except OSError:
            pass  # the server answered and closed: what we want

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sender.join()
    sock.close()
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b"\r\n", 1)[0].split()[1])


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(caplog.messages) + "\n" + caplog.text


def server_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The bot's side of the log (the test's own httpx client logs too, in this process)."""
    return [
        f"{r.levelname} {r.name} {r.getMessage()}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    ]


def app_url(harness: Harness) -> str:
    return harness.driver.app_url


# --- 1. size limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("megabytes", [50, 200])
def test_an_oversized_body_is_refused_before_it_is_read(
    harness: Harness, caplog: pytest.LogCaptureFixture, megabytes: int
) -> None:
    caplog.set_level(logging.DEBUG)
    size = megabytes * 1024 * 1024
    before = rss_kib()
    answer = raw_post(
        app_url(harness),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(size),
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=forged",
        },
        size,
    )
    after = rss_kib()
    logged = sum(len(line) + 1 for line in server_log(caplog))
    print(
        f"\n{megabytes} MB unsigned POST: HTTP {status_of(answer)}, RSS {before} -> {after} KiB "
        f"(+{after - before} KiB), {logged} bytes of log"
    )
    assert status_of(answer) == 413
    assert b"body too large" in answer
    assert after - before < 32 * 1024  # far below the body: it was never read into memory
    assert logged < 1000
    # One line, whole (the log guard cuts a line at "request body"): who, how big, 413.
    [refusal] = [line for line in server_log(caplog) if line.startswith("WARNING shipbot.http")]
    assert (
        refusal
        == "WARNING shipbot.http refused a request from 127.0.0.1: body over 1048576 bytes (413)"
    )
    assert "xxxxxxxx" not in caplog.text


def test_a_chunked_body_over_the_limit_is_refused_while_reading(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """No Content-Length to refuse on: reading stops one byte past the limit."""
    caplog.set_level(logging.DEBUG)
    parts = urlsplit(app_url(harness))
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    chunk = b"y" * 65536
    frames = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))  # 1.25 MiB
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {int(time.time())}\r\nX-Slack-Signature: v0=forged\r\n\r\n"
    ).encode()
    before = rss_kib()
    sock.sendall(head + frames + b"0\r\n\r\n")
    answer = b""
    try:
        while data := sock.recv(65536):
            answer += data
    except OSError:
        pass
    sock.close()
    print(f"\nchunked 1.25 MiB: RSS {before} -> {rss_kib()} KiB, {len(caplog.text)} bytes of log")
    assert status_of(answer) == 413
    assert "yyyyyyyy" not in caplog.text
    refusals = [line for line in server_log(caplog) if line.startswith("WARNING shipbot.http")]
    assert len(refusals) == 1 and refusals[0].endswith("bytes (413)"), refusals


def test_a_body_at_the_limit_still_reaches_bolt(harness: Harness) -> None:
    """Just under the limit is read and verified like any request (here: a bad signature)."""
    body = "x" * (MAX_BODY_BYTES - 10)
    response = harness.driver.post_raw(
        body, content_type="application/x-www-form-urlencoded", signature="v0=forged"
    )
    assert response.status_code == 401


def test_a_small_chunked_request_signed_by_slack_is_served(harness: Harness) -> None:
    """Chunked framing is decoded, so a proxy that re-chunks Slack's request still works."""
    form = harness.driver.command_payload("help")
    body = urlencode(form).encode()
    ts = str(int(time.time()))
    signature = harness.driver.sign(body.decode(), ts)
    parts = urlsplit(app_url(harness))
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    half = len(body) // 2
    first, second = body[:half], body[half:]
    frames = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(first), first, len(second), second)
    sock.sendall(
        (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
            # The server keeps HTTP/1.1 connections open; this test reads to the end.
            "Connection: close\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature}\r\n\r\n"
        ).encode()
        + frames
    )
    answer = b""
    while data := sock.recv(65536):
        answer += data
    sock.close()
    assert status_of(answer) == 200


# --- 2. forged and replayed requests -----------------------------------------------------------


def _submission_body(harness: Harness) -> str:
    view = harness.open_form()
    payload = harness.driver.view_submission_payload(view, example_state())
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize("forgery", ["bad signature", "stale timestamp"])
def test_a_forged_submission_is_one_short_line_without_the_body(
    harness: Harness, caplog: pytest.LogCaptureFixture, forgery: str
) -> None:
    body = _submission_body(harness)
    assert "Rosa" in body
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    if forgery == "bad signature":
        response = harness.driver.post_raw(
            body, content_type="application/x-www-form-urlencoded", signature="v0=" + "0" * 64
        )
    else:  # a replay: Slack's own signature, ten minutes old
        old = int(time.time()) - 600
        response = harness.driver.post_raw(
            body, content_type="application/x-www-form-urlencoded", timestamp=old
        )
    assert response.status_code == 401
    refused = [
        r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("shipbot")
    ]
    assert len(refused) == 1, [r.getMessage() for r in refused]
    line = refused[0].getMessage()
    logged = sum(len(line) + 1 for line in server_log(caplog))
    print(f"\n{forgery}: {line!r}; {logged} bytes of server log for the request")
    assert forgery in line and "body not logged" in line
    assert len(line) < 200
    text = log_text(caplog)
    for detail in RECIPIENT:
        assert detail not in text
    assert "Invalid request signature" not in text  # Bolt's line, with the body, is gone


def test_a_large_forged_request_writes_a_short_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Close to the limit, with a recipient's details in it: one short line either way."""
    caplog.set_level(logging.DEBUG)
    payload = {"type": "view_submission", "note": "Rosa Customer " * 70000}
    body = urlencode({"payload": json.dumps(payload)})
    assert MAX_BODY_BYTES // 2 < len(body) < MAX_BODY_BYTES
    forged = harness.driver.post_raw(
        body, content_type="application/x-www-form-urlencoded", signature="v0=forged"
    )
    junk = harness.driver.post_raw(
        "payload=" + "z" * (MAX_BODY_BYTES - 100),
        content_type="application/x-www-form-urlencoded",
        signature="v0=forged",
    )
    logged = sum(len(line) + 1 for line in server_log(caplog))
    print(f"\n~1 MiB forged POSTs: {logged} bytes of server log for both")
    assert forged.status_code == 401
    assert junk.status_code == 400  # Bolt can't parse it; answered without a trace
    assert logged < 1000
    assert "Rosa" not in log_text(caplog)
    assert "zzzzzzzz" not in log_text(caplog)


# --- 3. nothing of a recipient in the logs, at DEBUG ---------------------------------------------


def test_debug_logs_of_a_whole_flow_hold_no_recipient_details(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "shipbot", "httpx", "httpcore", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    record = harness.quoted()
    harness.click_quote(record)
    harness.wait_step(record.id, Step.UPLOADED)
    harness.driver.command(f"status {record.reference}")
    harness.driver.command("find rosa")
    harness.wait(lambda: len(harness.fake.ephemerals) >= 2)
    names = {r.name for r in caplog.records}
    assert any(n.startswith("slack_sdk") for n in names), names  # DEBUG was really on
    print(f"\nDEBUG flow: {len(caplog.records)} records, {len(caplog.text)} bytes")
    text = log_text(caplog)
    for detail in RECIPIENT:
        assert detail not in text, detail
    assert EXAMPLE_SHIPMENT["recipient_name"][1] not in text


# --- 4. a listener that raises never closes a modal silently ------------------------------


def _fail(body: dict[str, Any]) -> None:
    """Fails the way real code might: with what was sent in the exception's message."""
    raise RuntimeError(f"boom: {json.dumps(body)}")


def _failing_modal(bot: Shipbot, harness: Harness) -> dict[str, Any]:
    """A modal opened by the bot's own client, whose submission listener raises."""
    bot.app.view("boom_form")(_fail)
    opened = len(harness.fake.opened_views())
    view = modal(
        "boom_form",
        "Boom",
        "",
        [section("Intro"), field("first_input", "Name", text_input(None, 50))],
    )
    bot.app.client.views_open(trigger_id=harness.fake.issue_trigger(), view=view)
    harness.fake.wait_for(lambda: len(harness.fake.opened_views()) > opened)
    return harness.fake.opened_views()[-1]


def test_a_failing_view_submission_keeps_the_form_with_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    view = _failing_modal(harness.bot, harness)
    values = {"first_input": {"value": {"type": "plain_text_input", "value": "Rosa Customer"}}}
    response = harness.driver.submit_view(view, values)
    assert response.status_code == 200
    assert response.content.strip(), "an empty 200 closes the modal"
    ack = response.json()
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == ["first_input"]  # an input block of the submitted view
    assert "RuntimeError" in ack["errors"]["first_input"]
    assert "form is kept" in ack["errors"]["first_input"]
    assert harness.fake.is_open(view["id"])
    assert "Rosa" not in log_text(caplog)  # the exception's message isn't logged
    assert any("listener failed on view_submission boom_form" in m for m in caplog.messages)


def test_a_failing_button_is_acked_and_answered_privately(harness: Harness) -> None:
    harness.bot.app.action("boom_click")(_fail)
    posted = harness.bot.app.client.chat_postMessage(
        channel=CHANNEL,
        text="boom",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "boom_click",
                        "value": "1",
                        "text": {"type": "plain_text", "text": "Boom"},
                    }
                ],
            }
        ],
    )
    before = len(harness.fake.ephemerals)
    response = harness.driver.click(CHANNEL, str(posted["ts"]), "boom_click", "1")
    assert response.status_code == 200
    harness.wait(lambda: len(harness.fake.ephemerals) > before)
    told = harness.fake.ephemerals[-1]
    assert told.user == AGENT
    assert "Something went wrong on our side (RuntimeError)" in told.text


def test_a_failing_command_is_answered_privately(harness: Harness) -> None:
    harness.bot.app.command("/boom")(_fail)
    before = len(harness.fake.ephemerals)
    response = harness.driver.command("", command="/boom")
    assert response.status_code == 200
    harness.wait(lambda: len(harness.fake.ephemerals) > before)
    assert "RuntimeError" in harness.fake.ephemerals[-1].text


# --- 5. Slack errors a retry can't fix ---------------------------------------------------------


@pytest.mark.parametrize(
    "error, says",
    [
        ("channel_not_found", "run `/ship` in another channel"),
        ("is_archived", "is archived"),
        ("invalid_auth", "ask whoever runs shipbot to check SLACK_BOT_TOKEN"),
        ("account_inactive", "ask whoever runs shipbot"),
        ("missing_scope", "ask your Slack admin"),
    ],
)
def test_slack_errors_a_retry_cannot_fix_say_who_acts(
    harness: Harness, error: str, says: str
) -> None:
    harness.fake.fail_next("chat.postMessage", error)
    record = harness.ship()
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and says in failed.problem.message
    assert "Press Try again" not in failed.problem.message
    assert "/invite" not in failed.problem.message
    harness.wait(lambda: any(says in e.text for e in harness.fake.ephemerals))
    # The channel message goes out with the quotes (the call budget), so the consignment
    # may exist at the carrier, unallocated: nothing was bought.
    assert harness.sandbox.count("POST", r"^/consignments$") <= 1
    assert harness.sandbox.count("PUT", r"^/allocation/") == 0


@pytest.mark.parametrize(
    "message",
    [
        'on_message invoked: (message: {"payload": {"name": "Rosa Customer"}})',
        "Sending a message (session id: s1, message: {'name': 'Rosa Customer'})",
        'Sending a request - url: https://hooks/x, body: {"text": "Rosa Customer"}, headers: {}',
        "Responding with status: 200 body: \"{'view': 'Rosa Customer'}\" (3 millis)",
        "Unsuccessful Bolt execution result (status: 500, body: Rosa Customer)",
        "Request body: {'name': 'Rosa Customer'}",
    ],
)
def test_library_messages_seen_in_socket_mode_and_webhooks_are_cut(message: str) -> None:
    """Formats Bolt and slack_sdk use outside the HTTP flow above (Socket Mode, respond())."""
    from bot import logsafe

    logsafe.install()
    name = "slack_sdk.socket_mode.builtin.client"
    record = logging.getLogger(name).makeRecord(
        name, logging.DEBUG, __file__, 1, message, None, None
    )
    assert "Rosa" not in record.getMessage()
    assert logsafe.REDACTED in record.getMessage()
    huge = logging.getLogger(name).makeRecord(
        name, logging.DEBUG, __file__, 1, "x" * 200_000, None, None
    )
    assert len(huge.getMessage()) < logsafe.MAX_MESSAGE + 40


def test_our_own_loggers_are_under_the_same_guard() -> None:
    """shipbot.* (issue 22): an exception's text there may quote a recipient too."""
    from bot import logsafe

    logsafe.install()
    assert logsafe.guarded("shipbot.jobs") and logsafe.guarded("shipbot")
    assert not logsafe.guarded("shipbotx")
    recipient = "Rosa Customer, 1 Road, SW1A 2AA"
    try:
        raise ValueError(recipient)
    except ValueError:
        record = logging.getLogger("shipbot.jobs").makeRecord(
            "shipbot.jobs", logging.ERROR, __file__, 1, "job failed", None, sys.exc_info()
        )
    assert record.exc_text is not None and "Rosa" not in record.exc_text
    cut = logging.getLogger("shipbot.flow").makeRecord(
        "shipbot.flow", logging.INFO, __file__, 1, "x payload: Rosa Customer", None, None
    )
    assert "Rosa" not in cut.getMessage()
