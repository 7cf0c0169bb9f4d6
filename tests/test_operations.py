"""Agent operations through the real interfaces: signed requests in, fake Slack and the
sandbox carrier out. Each answer is read where the agent would read it: the command's
ack, the response_url, the thread, the App Home tab."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from blocks.tracking import tracking_url
from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Money, Recipient, ShipmentRequest, Step
from bot.runtime import log_handler
from bot.sandbox.server import RunningSandbox
from bot.store.writes import Store
from tests.factories import parcel
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, Runs
from tests.moves import walk_to

OTHER_CHANNEL = "C0OTHER1"


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _button_ids(blocks: list[dict[str, Any]]) -> list[str]:
    ids = []
    for block in blocks:
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            ids.append(accessory["action_id"])
        ids += [e["action_id"] for e in block.get("elements", []) if e.get("type") == "button"]
    return ids


def _command(h: Harness, text: str, **kwargs: Any) -> tuple[dict[str, Any], str]:
    """The ack the agent sees at once, and the response_url later answers go to."""
    response = h.driver.command(text, **kwargs)
    assert response.status_code == 200, response.text
    assert h.driver.last_response_url
    is_json = response.headers.get("content-type", "").startswith("application/json")
    ack = response.json() if is_json else {"text": response.text, "blocks": []}
    return ack, h.driver.last_response_url


def _later(h: Harness, response_url: str) -> dict[str, Any]:
    h.wait(lambda: bool(h.fake.responses_to(response_url)))
    h.bot.runner.wait_idle()
    answers = h.fake.responses_to(response_url)
    assert all(a.get("response_type") == "ephemeral" for a in answers)
    return answers[-1]


def _allocated(h: Harness, **kwargs: Any) -> ConsignmentRecord:
    record = h.quoted(**kwargs)
    h.click_quote(record)
    return h.wait_step(record.id, Step.UPLOADED)


def _manifested(h: Harness, record: ConsignmentRecord) -> ConsignmentRecord:
    _command(h, "manifest")
    return h.wait_step(record.id, Step.MANIFESTED)


def _seed(
    store: Store, count: int, *, channel: str = CHANNEL, step: Step = Step.QUOTED, tag: str = "A"
) -> list[int]:
    """Consignments straight into the store, for volume: no flow runs for them."""
    ids = []
    for i in range(count):
        request = ShipmentRequest(
            shipper_reference=f"SEED-{tag}-{channel}-{i:03d}",
            order_number=f"{tag}{i:04d}",
            recipient=Recipient(
                name=f"Seeded Person{i}", line1="1 Test Street", town="Leeds", postcode="LS1 4AP",
                country="GB",
            ),
            parcel=parcel(1, 20, 10, 5),
            value=Money(amount=Decimal(10)),
            contents="Socks",
        )  # fmt: skip
        cid, created = store.add_consignment(
            request, channel_id=channel, created_by=AGENT, response_url=None, view_id=None
        )
        assert created
        walk_to(store, cid, step)
        ids.append(cid)
    return ids


# -- help and bad arguments ----------------------------------------------------------------


def test_help_lists_every_command_with_an_example(harness: Harness) -> None:
    ack, _ = _command(harness, "help")
    text = _dump(ack["blocks"])
    for example in (
        "/ship status EC-",
        "/ship find ",
        "/ship list today",
        "/ship label EC-",
        "/ship cancel EC-",
        "/ship audit EC-",
        "/ship manifest",
    ):
        assert example in text, example
    ack, _ = _command(harness, "frobnicate now")
    assert "I don't know `/ship frobnicate`" in ack["text"] and "`/ship help`" in ack["text"]


def test_bad_arguments_get_a_clear_answer_and_change_nothing(harness: Harness) -> None:
    record = harness.quoted()
    before = (len(harness.store.audit_log()), harness.sandbox.requests())
    answers = {
        "status": _command(harness, "status")[0]["text"],
        "unknown": _command(harness, "status EC-NOT-THE-RE4L")[0]["text"],
        "long": _command(harness, "status " + "x" * 5000)[0]["text"],
        "control": _command(harness, "cancel EC-\x00\x07\x1b[2J")[0]["text"],
        "find short": _command(harness, "find a")[0]["text"],
        "list": _command(harness, "list everything")[0]["text"],
        "format": _command(harness, f"label {record.carrier_reference} png")[0]["text"],
        "mention": _command(harness, "audit <!channel> <@U0BOSS>")[0]["text"],
    }
    assert "needs a reference" in answers["status"] and "/ship status EC-" in answers["status"]
    # Unknown to shipbot: looked up at Sorted PRO (searches only), answered later.
    assert "looking up `EC-NOT-THE-RE4L` at Sorted PRO" in answers["unknown"]
    assert "5,000 characters" in answers["long"] and "at most 200" in answers["long"]
    assert "aren't text" in answers["control"]
    assert "at least 2 characters" in answers["find short"]
    assert "`open`, `today` or `all`" in answers["list"]
    assert "`pdf` or `zpl`" in answers["format"]
    # User text comes back escaped: no @channel ping, no mention.
    assert "<!channel>" not in answers["mention"] and "&lt;!channel&gt;" in answers["mention"]
    # Undecodable bytes, as a broken client might send them.
    form = harness.driver.command_payload("status PLACEHOLDER")
    body = urlencode(form).replace("PLACEHOLDER", "%FF%FE%00%81")
    raw = harness.driver.post_raw(body, content_type="application/x-www-form-urlencoded")
    assert raw.status_code == 200 and "aren't text" in raw.json()["text"]
    harness.bot.runner.wait_idle()
    searches = [r for r in harness.sandbox.requests() if r["path"].startswith("/consignments/20/")]
    assert searches and all(r["method"] == "GET" for r in searches)
    others = [r for r in harness.sandbox.requests() if r not in searches]
    assert (len(harness.store.audit_log()), others) == before
    assert harness.store.get(record.id).step is Step.QUOTED  # type: ignore[union-attr]
    assert all("Traceback" not in a and "Error" not in a for a in answers.values())


# -- status --------------------------------------------------------------------------------


def test_status_refreshes_from_the_carrier_with_tracking_and_a_line_for_the_customer(
    harness: Harness,
) -> None:
    record = _allocated(harness)
    _manifested(harness, record)
    ref = record.carrier_reference
    assert ref and record.allocation
    harness.sandbox.advance_clock(2 * 600 + 5)  # collected, then out for delivery
    gets = harness.sandbox.count("GET", rf"^/consignments/{ref}$")

    ack, url = _command(harness, f"status {ref}")
    assert ack["text"] == f"⏳ Looking up {ref}…"  # the listener never waits on the carrier
    card = _dump(_later(harness, url)["blocks"])

    assert harness.sandbox.count("GET", rf"^/consignments/{ref}$") == gets + 1
    assert harness.sandbox.count("GET", rf"^/tracking/flattened/{ref}$") == 1
    assert "Out for delivery" in card and "Sorted PRO" in card
    for number in record.allocation.tracking_numbers:
        link = tracking_url(record.allocation.carrier_code, number)
        assert link and f"<{link}|{number}>" in card
    assert "For the customer" in card and "is out for delivery with Evri" in card
    assert "Collected by Evri" in card  # the latest scans
    assert f"allocated by <@{AGENT}>" in card and f"manifested by <@{AGENT}>" in card
    assert "slack.com/archives/" in card and "Open the thread" in card
    # The same card by order number and by shipper reference (another agent may ask).
    for key in (record.request.order_number, record.request.shipper_reference.lower()):
        ack, url = _command(harness, f"status {key}", user=AGENT2)
        assert ref in _dump(_later(harness, url)["blocks"])


def test_status_when_the_carrier_is_down_shows_what_we_know(harness: Harness) -> None:
    record = _allocated(harness)
    harness.sandbox.arm_fault(r"^/consignments/EC-", method="GET", status=503, count=20)
    _ack, url = _command(harness, f"status {record.request.order_number}")
    card = _dump(_later(harness, url)["blocks"])
    assert "isn't answering" in card and "Showing what shipbot last knew" in card
    assert "Carrier correlation id for support" in card
    assert "shipbot's record" in card and record.allocation
    assert record.allocation.tracking_numbers[0] in card
    assert "InjectedFault" not in card and "HTTP 503" not in card


def test_status_button_in_the_thread_answers_the_clicker_only(harness: Harness) -> None:
    record = _allocated(harness)
    assert record.quotes_ts
    buttons = _button_ids(harness.quotes_message(record).blocks)
    assert {"op_status", "op_reprint", "op_cancel"} <= set(buttons)
    response = harness.driver.click(CHANNEL, record.quotes_ts, "op_status", user=AGENT2)
    assert response.status_code == 200
    answer = _later(harness, harness.driver.last_response_url or "")
    assert record.carrier_reference and record.carrier_reference in _dump(answer["blocks"])
    assert answer.get("replace_original") is False


# -- find and list -------------------------------------------------------------------------


def test_find_matches_name_postcode_order_and_reference(harness: Harness) -> None:
    shipped = harness.ship()  # Rosa Customer, SW1A 2AA, order 1182
    _seed(harness.store, 25, tag="F")  # Seeded PersonN, LS1 4AP
    cases = {
        "CUSTOMER": 1,  # name, any case
        "sw1a2aa": 1,  # postcode without its space
        "1182": 1,  # order number
        shipped.request.shipper_reference[-6:]: 1,
        "seeded person1": 11,  # Person1, Person10..Person19
        "ls1 4ap": 25,
        "100%": 0,  # % is a character, not a wildcard
    }
    for text, expected in cases.items():
        ack, _ = _command(harness, f"find {text}")
        if expected == 0:
            assert "Nothing matches" in ack["text"], text
            continue
        rows = [b for b in ack["blocks"] if str(b.get("block_id", "")).startswith("row-")]
        assert f"🔎 {expected} consignment" in ack["text"], (text, ack["text"])
        assert len(rows) == min(expected, 20) and len(ack["blocks"]) <= 50
    ack, _ = _command(harness, "find ls1 4ap")
    assert "Showing the newest 20 of 25" in _dump(ack["blocks"])
    first = next(b for b in ack["blocks"] if str(b.get("block_id", "")).startswith("row-"))
    assert "order F0024" in first["text"]["text"]  # newest first


def test_list_pages_open_today_and_all_of_this_channel(harness: Harness) -> None:
    store = harness.store
    _seed(store, 45, step=Step.UPLOADED, tag="O")
    _seed(store, 3, step=Step.MANIFESTED, tag="M")
    _seed(store, 2, step=Step.CANCELLED, tag="C")
    _seed(store, 4, channel=OTHER_CHANNEL, tag="X")
    old = _seed(store, 1, step=Step.UPLOADED, tag="Y")[0]
    yesterday = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    store.database.conn().execute(
        "UPDATE consignments SET created_at = ? WHERE id = ?", (yesterday, old)
    )

    ack, _ = _command(harness, "list")
    assert "Open consignments" in ack["text"] and ack["text"].endswith(": 46")
    assert len(ack["blocks"]) <= 50
    seen = [b["block_id"] for b in ack["blocks"] if b.get("block_id", "").startswith("row-")]
    pages = 1
    while "op_list_page" in _button_ids(ack["blocks"]):
        harness.driver.click_ephemeral(harness.fake.ephemerals[-1], "op_list_page")
        ack = _later(harness, harness.driver.last_response_url or "")
        seen += [b["block_id"] for b in ack["blocks"] if b.get("block_id", "").startswith("row-")]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 46
    assert "Showing 41–46 of 46" in _dump(ack["blocks"])

    assert _command(harness, "list all")[0]["text"].endswith(": 51")
    assert _command(harness, "list TODAY")[0]["text"].endswith(": 50")
    ack, _ = _command(harness, "list", channel="C0EMPTY1")
    assert "Nothing to list" in ack["text"]


# -- labels --------------------------------------------------------------------------------


def test_relabel_after_a_restart_comes_from_the_store(
    runs: Runs, fake_slack: FakeSlack, sandbox: RunningSandbox
) -> None:
    with runs() as first:
        record = _allocated(first)
    assert record.carrier_reference and record.message_ts
    label_gets = sandbox.count("GET", r"^/labels/")
    assert label_gets == 1
    with runs() as second:
        ack, url = _command(second, f"label {record.carrier_reference}")
        assert "⏳" in ack["text"]
        assert "is in the thread" in _dump(_later(second, url)["blocks"])
        in_thread = [f for f in fake_slack.files if f.thread_ts == record.message_ts]
        assert [f.filename for f in in_thread] == [f"{record.carrier_reference}.pdf"] * 2
        assert in_thread[0].data == in_thread[1].data
        assert sandbox.count("GET", r"^/labels/") == label_gets  # no carrier call

        # ZPL: fetched once, kept, then reprinted from the store.
        for _ in range(2):
            _later(second, _command(second, f"label {record.reference} ZPL")[1])
        zpl = [f for f in fake_slack.files if f.filename.endswith(".zpl")]
        assert len(zpl) == 2 and zpl[0].data.startswith(b"^XA")
        assert sandbox.count("GET", r"^/labels/.*/zpl$") == 1

        # The thread's Reprint label button does the same.
        assert record.quotes_ts
        second.driver.click(CHANNEL, record.quotes_ts, "op_reprint", user=AGENT2)
        second.wait(lambda: len([f for f in fake_slack.files if f.filename.endswith(".pdf")]) == 3)
        second.wait(second.bot.runner.idle)
        reprints = [e for e in second.store.audit_log(record.id) if e.action == "reprint"]
        assert [e.actor for e in reprints] == [AGENT, AGENT, AGENT, AGENT2]
        assert sandbox.count("GET", r"^/labels/") == label_gets + 1


def test_label_refusals(harness: Harness) -> None:
    quoted = harness.quoted()
    ack, _ = _command(harness, f"label {quoted.carrier_reference}")
    assert "has no label yet" in ack["text"]
    assert harness.sandbox.count("GET", r"^/labels/") == 0


# -- cancel --------------------------------------------------------------------------------


def test_cancel_before_manifest_confirms_then_cancels_with_the_carrier(harness: Harness) -> None:
    record = _allocated(harness)
    ref = record.carrier_reference
    assert ref and record.message_ts and record.quotes_ts
    ack, _ = _command(harness, f"cancel {ref}")
    [cancel] = [
        e for b in ack["blocks"] for e in b.get("elements", []) if e["action_id"] == "op_cancel"
    ]
    assert cancel["style"] == "danger" and cancel["confirm"]["style"] == "danger"
    assert harness.sandbox.count("PUT", r"/cancel$") == 0  # nothing until confirmed

    harness.driver.click_ephemeral(harness.fake.ephemerals[-1], "op_cancel")
    done = harness.wait_step(record.id, Step.CANCELLED)
    answer = _later(harness, harness.driver.last_response_url or "")
    assert "Cancelled" in answer["text"]
    assert harness.sandbox.count("PUT", r"/cancel$") == 1
    assert harness.bot.carrier.get_consignment(ref).state.value == "Cancelled"
    assert "❌ Cancelled" in _dump(harness.fake.message(CHANNEL, record.message_ts).blocks)
    assert _button_ids(harness.quotes_message(done).blocks) == []  # no live buttons left
    thread = [m.text for m in harness.fake.thread(CHANNEL, record.message_ts)]
    assert any(f"Cancelled with Sorted PRO by <@{AGENT}>" in t for t in thread)
    assert [e.outcome for e in harness.store.audit_log(record.id) if e.action == "cancel"] == ["ok"]
    # Afterwards: refused without a call, and status answers from the store.
    assert "already cancelled" in _command(harness, f"cancel {ref}")[0]["text"]
    gets = harness.sandbox.count("GET", rf"^/consignments/{ref}$")
    card = _dump(_later(harness, _command(harness, f"status {ref}")[1])["blocks"])
    assert "❌ Cancelled" in card and "cancelled by" in card
    assert harness.sandbox.count("GET", rf"^/consignments/{ref}$") == gets
    assert "void" in _command(harness, f"label {ref}")[0]["text"]


def test_cancel_a_quoted_consignment_removes_its_quote_buttons(harness: Harness) -> None:
    record = harness.quoted()
    assert record.quotes_ts
    _command(harness, f"cancel {record.request.shipper_reference}")
    harness.driver.click_ephemeral(harness.fake.ephemerals[-1], "op_cancel")
    done = harness.wait_step(record.id, Step.CANCELLED)
    assert harness.sandbox.count("PUT", r"/cancel$") == 1
    assert "choose_quote" not in _button_ids(harness.quotes_message(done).blocks)
    assert harness.allocations_at_carrier() == 0


def test_cancel_after_manifest_is_refused_without_a_carrier_call(harness: Harness) -> None:
    record = _manifested(harness, _allocated(harness))
    assert record.quotes_ts and record.allocation
    ack, _ = _command(harness, f"cancel {record.carrier_reference}")
    assert "was manifested" in ack["text"] and "customer desk" in ack["text"]
    assert record.allocation.tracking_numbers[0] in ack["text"]
    assert "op_cancel" not in _button_ids(ack["blocks"])
    # The thread's Cancel button (pressed after the confirm dialog) is refused the same way.
    harness.driver.click(CHANNEL, record.quotes_ts, "op_cancel", user=AGENT2)
    answer = _later(harness, harness.driver.last_response_url or "")
    assert "was manifested" in answer["text"]
    assert harness.sandbox.count("PUT", r"/cancel$") == 0
    assert harness.store.get(record.id).step is Step.MANIFESTED  # type: ignore[union-attr]
    refusals = [e for e in harness.store.audit_log(record.id) if e.action == "cancel"]
    assert [(e.actor, e.outcome) for e in refusals] == [(AGENT, "refused"), (AGENT2, "refused")]


def test_cancel_refused_by_the_carrier_follows_what_the_carrier_says(
    harness: Harness,
) -> None:
    record = _allocated(harness)
    assert record.carrier_reference and record.message_ts
    # Manifested at the carrier behind shipbot's back (e.g. in Sorted PRO's web app): the
    # cancel is refused, and the store and the channel now say what the carrier says.
    harness.bot.carrier.manifest_from_query([harness.settings.shipping_location])
    harness.driver.click(CHANNEL, record.quotes_ts or "", "op_cancel")
    answer = _later(harness, harness.driver.last_response_url or "")
    assert "was not cancelled" in answer["text"] and "manifested" in answer["text"]
    assert harness.sandbox.count("PUT", r"/cancel$") == 1
    harness.wait_step(record.id, Step.MANIFESTED)
    assert "✅ Manifested" in _dump(harness.fake.message(CHANNEL, record.message_ts).blocks)


# -- audit and App Home --------------------------------------------------------------------


def test_audit_shows_who_did_what_when(harness: Harness) -> None:
    record = _manifested(harness, _allocated(harness))
    ack, _ = _command(harness, f"audit {record.carrier_reference}")
    text = _dump(ack["blocks"])
    for action in ("submit", "create", "quotes", "claim", "allocate", "upload", "manifest"):
        assert f" · {action} · " in text, action
    assert f"<@{AGENT}>" in text and "<!date^" in text
    assert all(q.reference not in text for q in record.quotes)  # no internal ids
    assert len(ack["blocks"]) <= 50


def test_app_home_shows_today_by_state_within_slack_limits(harness: Harness) -> None:
    store = harness.store
    for step in (Step.QUOTED, Step.FAILED, Step.UPLOADED, Step.MANIFESTED, Step.CANCELLED):
        _seed(store, 40, step=step, tag=step.value[:2].upper())
    queued = _seed(store, 2, step=Step.MANIFESTING, tag="Q")
    store.record_manifest(
        requested_by=AGENT2,
        channel_id=CHANNEL,
        message="ok",
        queued=queued,
        failed=["EC-1"],
        leaving={Step.MANIFESTING},
    )
    response = harness.driver.event(
        {"type": "app_home_opened", "user": AGENT, "channel": "D0HOME01", "tab": "home"}
    )
    assert response.status_code == 200
    harness.wait(lambda: AGENT in harness.fake.home_views)
    view = harness.fake.home_views[AGENT]
    text = _dump(view["blocks"])
    assert len(view["blocks"]) <= 100
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    for title in ("Needs an agent · 80", "Allocated, waiting for the manifest · 40", "Cancelled"):
        assert title in text, title
    assert "*Last manifest:* " in text and f"<@{AGENT2}>" in text and "2 queued, 1 failed" in text
    # The Messages tab fires the same event: nothing is published for it.
    harness.driver.event({"type": "app_home_opened", "user": AGENT2, "tab": "messages"})
    harness.bot.runner.wait_idle()
    assert AGENT2 not in harness.fake.home_views


# -- logs ----------------------------------------------------------------------------------


def _full_flow(harness: Harness) -> ConsignmentRecord:
    """Ship, manifest, look up, reprint, find, cancel: every kind of log line a day makes."""
    record = _manifested(harness, _allocated(harness))
    ref = record.carrier_reference
    _later(harness, _command(harness, f"status {ref}")[1])
    _later(harness, _command(harness, f"label {ref} zpl")[1])
    _command(harness, "find rosa")
    _command(harness, "find sw1a 2aa")
    other = _allocated(harness)
    _command(harness, f"cancel {other.carrier_reference}")
    harness.driver.click_ephemeral(harness.fake.ephemerals[-1], "op_cancel")
    harness.wait_step(other.id, Step.CANCELLED)
    return record


def _assert_no_secrets(harness: Harness, record: ConsignmentRecord, text: str) -> None:
    recipient = record.request.recipient
    secrets = [
        recipient.name,
        recipient.name.split()[-1],
        recipient.line1,
        recipient.postcode,
        recipient.postcode.replace(" ", ""),
        recipient.email,
        recipient.phone,
        "7946 0000",
        harness.settings.slack_bot_token,
        harness.settings.slack_signing_secret,
    ]
    for secret in secrets:
        assert secret and secret.lower() not in text.lower(), secret


def test_logs_of_a_full_flow_hold_no_recipient_details(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # serve's default; slack_sdk and httpx left as they are
    for name in ("slack_sdk", "slack_bolt", "httpx"):
        assert logging.getLogger(name).level == logging.NOTSET
    record = _full_flow(harness)
    text = caplog.text
    assert "step consignment=" in text and "duration_ms=" in text
    for op in ("status", "label", "find", "cancel"):
        assert f"operation op={op} " in text, op
    assert f"ref={record.carrier_reference} outcome=carrier:Manifested " in text
    _assert_no_secrets(harness, record, text)


def test_json_logs_of_a_full_flow_parse_and_hold_no_recipient_details(harness: Harness) -> None:
    """SHIPBOT_LOG_FORMAT=json's handler on the root logger, at DEBUG (every library talks)."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        record = _full_flow(harness)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) > 50
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("+00:00")
    steps = [x for x in lines if x["message"].startswith("step consignment=")]
    assert steps and all(x["job"].endswith(" advance") for x in steps), steps[:3]
    assert {x.get("consignment") for x in steps} >= {record.id}
    slack = {
        x["slack_method"]
        for x in lines
        if x["logger"].startswith("slack_sdk") and "slack_method" in x
    }
    assert {"chat.postMessage", "views.open"} <= slack, slack
    carrier = [x for x in lines if x["logger"] == "shipbot.carrier" and x.get("consignment")]
    assert carrier, "the carrier's lines name the consignment their job works on"
    decoded = "\n".join(str(value) for line in lines for value in line.values())
    _assert_no_secrets(harness, record, text + decoded)
