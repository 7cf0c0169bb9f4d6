"""`shipbot demo`: the whole Quotes flow with no Slack app and no Sorted account.

It starts the local sandbox carrier and the stand-in Slack Web API, serves the real app
over HTTP, and drives it exactly as Slack would (signed requests), printing what an agent
would see. Nothing here is a shortcut: the same code path runs in production.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blocks.consignment import service_label
from bot.app import RunningBot, build
from bot.carrier.factory import carrier_client
from bot.devslack.driver import SlackDriver, state_value
from bot.devslack.render import render_blocks, render_mrkdwn
from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import SandboxConfig, start_sandbox
from bot.settings import Settings
from bot.slack.http import serve_in_thread
from bot.store.writes import Store

SECRET = "demo-signing-secret"
CHANNEL = "C0SHIPPING"
AGENT = "U0AGENT01"
LEAD = "U0LEAD001"

DOMESTIC: dict[str, str] = {
    "recipient_name": "Rosa Customer",
    "recipient_email": "rosa@example.com",
    "recipient_phone": "+44 20 7946 0000",
    "address_line1": "10 Downing Street",
    "address_town": "London",
    "address_postcode": "sw1a 2aa",
    "address_country": "GB",
    "parcel_count": "2",
    "parcel_weight_kg": "1.2",
    "parcel_length_cm": "30",
    "parcel_width_cm": "20",
    "parcel_height_cm": "10",
    "declared_value": "49.99",
    "declared_currency": "GBP",
    "contents": "Running shoes",
    "order_number": "1182",
}
INTERNATIONAL: dict[str, str] = {
    **DOMESTIC,
    "recipient_name": "Jean Client",
    "recipient_email": "jean@example.fr",
    "recipient_phone": "+33 1 42 68 53 00",
    "address_line1": "55 Rue du Faubourg Saint-Honoré",
    "address_town": "Paris",
    "address_postcode": "75008",
    "address_country": "FR",
    "parcel_count": "1",
    "parcel_weight_kg": "0.8",
    "declared_value": "120",
    "order_number": "1183",
}
CUSTOMS: dict[str, str] = {
    "customs_hs_code": "6404.11",
    "customs_origin_country": "GB",
    "customs_reason": "Sale",
}


DEMO_SEED_ORDERS = 8
RESCUED_ORDER = "100235"  # made by the webshop, booked and Ready To Ship (bot/sandbox/seed.py)


class DemoFailed(Exception):
    pass


def fill_form(view: dict[str, Any], answers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Type `answers` into a modal as an agent would; other fields keep what they show."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        block_id = block["block_id"]
        if block_id in answers:
            value: str | None = answers[block_id]
        elif "initial_option" in element:
            value = element["initial_option"]["value"]
        else:
            value = element.get("initial_value")
        values[block_id] = {element["action_id"]: state_value(kind, value)}
    return values


def _say(text: str = "") -> None:
    print(text, flush=True)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def run_demo(*, slow: bool = False, out_dir: str = "shipbot-demo") -> int:
    try:
        _run(slow=slow, out=Path(out_dir))
    except DemoFailed as exc:
        print(f"shipbot demo: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def _run(*, slow: bool, out: Path) -> None:
    latency = 1.5 if slow else 0.0  # two calls pass the 2 s after which "⏳" shows
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="shipbot-demo-"))
    # The account also holds the webshop's consignments (the delivery desk rescues one).
    sandbox = start_sandbox(
        SandboxConfig(seed=2026, latency_seconds=latency, seed_orders=DEMO_SEED_ORDERS)
    )
    fake = FakeSlack().start()
    fake.add_channel(CHANNEL, name="shipping")
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-demo",
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        electio_api_url=sandbox.url,
        shipbot_db=str(workdir / "shipbot.db"),
        shipbot_manifest_users=[LEAD],
        shipbot_track_every=0.2,
    )
    store = Store(settings.shipbot_db, busy_timeout=settings.shipbot_db_busy_timeout)
    carrier = carrier_client(settings)
    bot = build(settings, store, carrier)
    bot.start()
    server, url = serve_in_thread(bot.app)
    driver = SlackDriver(url, SECRET, fake)
    _say("shipbot demo — the real app, a stand-in Slack and the local sandbox carrier")
    _say(f"  app:     {url}")
    _say(f"  carrier: {sandbox.url} (Sorted PRO's wire format{', +1.5 s a call' if slow else ''})")
    _say(f"  slack:   {fake.url}")
    try:
        first = _ship(driver, fake, bot, DOMESTIC, None, slow)
        second = _ship(driver, fake, bot, INTERNATIONAL, CUSTOMS, slow)
        # The carrier will fail to deliver the parcel abroad: a card left, nobody home.
        sandbox.set_journey(second.carrier_reference or "", "InTransit", "DeliveryFailedCardLeft")
        sandbox.set_journey(first.carrier_reference or "", "InTransit", "Delivered")
        _manifest(driver, fake, bot, [first, second])
        # Then the parcels move on a step every 0.25 s; the watcher looks every 0.2 s.
        sandbox.set_timing(tracking_step_seconds=0.25)
        _deliveries(fake, [first, second])
        _return(driver, fake, bot, first, slow)
        _rescue(driver, fake, bot, slow)
        saved = _save_files(fake, out)
    finally:
        driver.close()
        server.shutdown()
        bot.stop()
        carrier.close()
        sandbox.stop()
        fake.stop()
        store.close()
    _say()
    _say(f"Saved {len(saved)} PDFs under {out}/:")
    for path in saved:
        _say(f"  {path}")
    _say("Demo finished: every step above went over HTTP, signed as Slack signs.")


def _wait(what: str, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise DemoFailed(f"timed out waiting for {what}")


def _wait_step(
    bot: RunningBot, fake: FakeSlack, cid: int, step: Step, slow: bool
) -> ConsignmentRecord:
    """Wait for the step and for the worker to finish showing it; with --slow, show progress."""
    shown: list[str] = []

    def reached() -> bool:
        record = bot.store.get(cid)
        if record is None:
            return False
        if record.step is Step.FAILED:
            problem = record.problem.message if record.problem else "unknown"
            raise DemoFailed(f"consignment {cid} failed: {problem}")
        if slow and record.message_ts:
            status = render_blocks(fake.message(CHANNEL, record.message_ts).blocks[1:2])
            if not shown or shown[-1] != status:
                shown.append(status)
                _say(f"   … #shipping now says: {status.strip()}")
        return record.step is step and bot.runner.idle()

    _wait(f"consignment {cid} to reach {step.value}", reached)
    record = bot.store.get(cid)
    assert record is not None
    return record


def _submitted(response: Any, what: str) -> dict[str, Any]:
    """A modal submission's ack (empty when the modal just closes); field errors fail."""
    ack: dict[str, Any] = response.json() if response.content.strip() else {}
    if ack.get("response_action") == "errors":
        raise DemoFailed(f"the {what} was refused: {ack['errors']}")
    return ack


def _quoted(bot: RunningBot, fake: FakeSlack, reference: str, slow: bool) -> ConsignmentRecord:
    """The consignment a submitted form stored, once its quotes are in the thread."""
    record = bot.store.find_by_reference(reference)
    if record is None:
        raise DemoFailed(f"the form stored no consignment {reference}")
    return _wait_step(bot, fake, record.id, Step.QUOTED, slow)


def _ship(
    driver: SlackDriver,
    fake: FakeSlack,
    bot: RunningBot,
    answers: dict[str, str],
    customs: dict[str, str] | None,
    slow: bool,
) -> ConsignmentRecord:
    where = "abroad" if customs else "in the UK"
    _say()
    _say(f"━━ @agent types /ship in #shipping (a parcel {where})")
    opened = len(fake.opened_views())
    response = driver.command("", user=AGENT, channel=CHANNEL)
    if response.status_code != 200:
        raise DemoFailed(f"/ship answered HTTP {response.status_code}")
    # The ack goes first; the modal opens a moment later, as in Slack.
    _wait("the form to open", lambda: len(fake.opened_views()) > opened, timeout=5)
    view = fake.opened_views()[-1]
    _say(f"   modal “{view['title']['text']}” opens with {len(view['blocks'])} blocks")
    reference = fill_form(view, {})["shipper_reference"]["value"]["value"]
    _say(
        f"   @agent fills it in: {answers['recipient_name']}, {answers['address_town']} "
        f"{answers['address_postcode'].upper()}, {answers['parcel_count']} × "
        f"{answers['parcel_weight_kg']} kg — and presses “{view['submit']['text']}”"
    )
    ack = _submitted(driver.submit_view(view, fill_form(view, answers), user=AGENT), "form")
    if customs:
        if ack.get("response_action") != "update":
            raise DemoFailed("no customs page for a parcel leaving the UK")
        page2 = fake.views[view["id"]]
        _say(
            f"   page 2 “{page2['title']['text']}”: HS code {customs['customs_hs_code']}, "
            f"reason {customs['customs_reason']} — submitted"
        )
        _submitted(
            driver.submit_view(view["id"], fill_form(page2, customs), user=AGENT), "customs page"
        )
    record = _quoted(bot, fake, reference, slow)
    assert record.message_ts and record.quotes_ts
    _say()
    _say("   #shipping")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.message_ts).blocks), "   │ "))
    _say("   └ thread")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.quotes_ts).blocks), "     │ "))
    chosen = record.quotes[0]
    _say()
    _say(f"━━ @agent clicks [Choose] on {service_label(chosen.carrier_name, chosen.service_name)}")
    click = driver.click(
        CHANNEL, record.quotes_ts, "choose_quote", f"{record.id}:{chosen.reference}", user=AGENT
    )
    if click.status_code != 200:
        raise DemoFailed(f"the click answered HTTP {click.status_code}")
    record = _wait_step(bot, fake, record.id, Step.UPLOADED, slow)
    assert record.message_ts and record.quotes_ts
    _say("   #shipping")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.message_ts).blocks), "   │ "))
    _say("   └ thread")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.quotes_ts).blocks), "     │ "))
    for share in fake.thread(CHANNEL, record.message_ts):
        if share.files:  # one upload: every document, with the outcome as its message
            _say(_indent(render_mrkdwn(share.text), "     │ "))
            for info in share.files:
                _say(f"     │ 🧾 {info['name']} ({info['size']:,} bytes, PDF)")
    return record


def _manifest(
    driver: SlackDriver, fake: FakeSlack, bot: RunningBot, records: list[ConsignmentRecord]
) -> None:
    _say()
    _say("━━ @agent types /ship manifest (not a manifest user)")
    refused = driver.command("manifest", user=AGENT, channel=CHANNEL)
    _say(f"   (only you) {refused.text.strip()}")
    _say("━━ @lead types /ship manifest")
    response = driver.command("manifest", user=LEAD, channel=CHANNEL)
    _say(f"   (only you) {response.text.strip()}")
    for record in records:
        _wait_step(bot, fake, record.id, Step.MANIFESTED, False)

    def marked() -> bool:
        return all(
            "✅ Manifested" in (fake.message(CHANNEL, r.message_ts or "").text or "")
            for r in records
        )

    _wait("each consignment's channel message to say it is manifested", marked)
    summary = [m for m in fake.messages(CHANNEL) if "to manifest" in (m.text or "")]
    if not summary:
        raise DemoFailed("no manifest summary in the channel")
    _say("   #shipping")
    _say(_indent(render_blocks(summary[-1].blocks), "   │ "))
    for record in records:
        assert record.message_ts
        top = fake.message(CHANNEL, record.message_ts)
        _say(f"   │ {record.carrier_reference}: {render_blocks(top.blocks).splitlines()[1]}")


def _deliveries(fake: FakeSlack, records: list[ConsignmentRecord]) -> None:
    """The watcher's lines arriving by themselves: a delivery, and an exception."""
    _say()
    _say("━━ nobody types anything: the carrier moves the parcels on")

    def told(record: ConsignmentRecord, words: str) -> bool:
        assert record.message_ts
        return words in fake.message(CHANNEL, record.message_ts).text

    _wait("the delivery in its thread", lambda: told(records[0], "📬 Delivered"))
    _wait("the exception in its thread", lambda: told(records[1], "card left"))
    for record in records:
        assert record.message_ts
        top = fake.message(CHANNEL, record.message_ts)
        state = render_blocks(top.blocks).splitlines()[1]
        _say(f"   #shipping · {record.carrier_reference}: {state}")
        _say("   └ thread (new)")
        for line in fake.thread(CHANNEL, record.message_ts):
            if "Sorted PRO," in str(line.blocks):
                _say(_indent(render_blocks(line.blocks), "     │ "))


RETURN_ANSWERS = {"parcel_count": "1", "return_reason": "Not wanted"}


def _return(
    driver: SlackDriver, fake: FakeSlack, bot: RunningBot, original: ConsignmentRecord, slow: bool
) -> None:
    """A return label from the delivered consignment's thread: one of its two parcels comes
    back; the label and the sentence for the customer land in that same thread."""
    assert original.message_ts and original.quotes_ts
    _say()
    _say(f"━━ the customer of order {DOMESTIC['order_number']} sends one parcel back.")
    _say(f"   @agent clicks [Return label] in {original.carrier_reference}'s thread")
    opened = len(fake.opened_views())
    driver.click(CHANNEL, original.quotes_ts, "return_label", user=AGENT)
    _wait("the return form to open", lambda: len(fake.opened_views()) > opened, timeout=5)
    view = fake.opened_views()[-1]
    filled = fill_form(view, {})
    reference = filled["shipper_reference"]["value"]["value"]
    sender = filled["recipient_name"]["value"]["value"]
    _say(
        f"   modal “{view['title']['text']}” opens filled in: {sender} sends it back, "
        f"reference {reference}"
    )
    _say(
        f"   @agent keeps 1 parcel of 2, reason Not wanted — and presses “{view['submit']['text']}”"
    )
    _submitted(driver.submit_view(view, fill_form(view, RETURN_ANSWERS), user=AGENT), "form")
    record = _quoted(bot, fake, reference, slow)
    assert record.quotes_ts
    _say(f"   └ {original.carrier_reference}'s thread (new)")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.quotes_ts).blocks), "     │ "))
    chosen = record.quotes[0]
    _say()
    _say(f"━━ @agent clicks [Choose] on {service_label(chosen.carrier_name, chosen.service_name)}")
    driver.click(
        CHANNEL, record.quotes_ts, "choose_quote", f"{record.id}:{chosen.reference}", user=AGENT
    )
    record = _wait_step(bot, fake, record.id, Step.UPLOADED, slow)
    _say(f"   └ {original.carrier_reference}'s thread (new)")
    for line in fake.thread(CHANNEL, original.message_ts):
        if line.files and record.reference in line.text:
            _say(_indent(render_mrkdwn(line.text), "     │ "))
            for info in line.files:
                _say(f"     │ 🧾 {info['name']} ({info['size']:,} bytes, PDF)")


def _rescue(driver: SlackDriver, fake: FakeSlack, bot: RunningBot, slow: bool) -> None:
    """The delivery desk: an order the webshop made, found by its number, shipped with
    another service; the new label in its thread."""
    _say()
    _say(f"━━ the customer rings: order {RESCUED_ORDER} must go faster. @agent types")
    _say(f"   /ship status {RESCUED_ORDER}")
    before = len(fake.ephemerals)
    driver.command(f"status {RESCUED_ORDER}", user=AGENT, channel=CHANNEL)

    def card() -> Any:
        found = [
            e
            for e in fake.ephemerals[before:]
            if any(b.get("block_id", "").startswith("found-") for b in e.blocks)
        ]
        return found[-1] if found else None

    _wait("the card from Sorted PRO", lambda: card() is not None)
    found = card()
    _say("   (only you)")
    _say(_indent(render_blocks(found.blocks), "   │ "))
    reference = next(
        b["block_id"].removeprefix("found-")
        for b in found.blocks
        if b.get("block_id", "").startswith("found-")
    )
    _say("━━ @agent clicks [Ship with another service]")
    driver.click_ephemeral(found, "found_reship")
    _wait("the take-over", lambda: bot.store.find_by_reference(reference) is not None)
    record = bot.store.find_by_reference(reference)
    assert record is not None
    record = _wait_step(bot, fake, record.id, Step.REQUOTED, slow)
    assert record.message_ts and record.quotes_ts and record.allocation
    _say("   #shipping (new thread)")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.message_ts).blocks), "   │ "))
    _say("   └ thread")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.quotes_ts).blocks), "     │ "))
    old = record.allocation.service_name
    chosen = max((q for q in record.quotes if q.service_name != old), key=lambda q: q.price.gross)
    _say()
    _say(f"━━ @agent clicks [Choose] on {service_label(chosen.carrier_name, chosen.service_name)}")
    driver.click(
        CHANNEL, record.quotes_ts, "choose_quote", f"{record.id}:{chosen.reference}", user=AGENT
    )
    record = _wait_step(bot, fake, record.id, Step.UPLOADED, slow)
    assert record.message_ts
    _say("   #shipping")
    _say(_indent(render_blocks(fake.message(CHANNEL, record.message_ts).blocks), "   │ "))
    _say("   └ thread (new)")
    for line in fake.thread(CHANNEL, record.message_ts):
        if "booking is released" in line.text:
            _say(_indent(render_mrkdwn(line.text), "     │ "))
        if line.files:
            _say(_indent(render_mrkdwn(line.text), "     │ "))
            for info in line.files:
                _say(f"     │ 🧾 {info['name']} ({info['size']:,} bytes, PDF)")


def _save_files(fake: FakeSlack, out: Path) -> list[Path]:
    saved = []
    for f in fake.files:
        path = out / f.filename
        path.write_bytes(f.data)
        if not f.data.startswith(b"%PDF"):
            raise DemoFailed(f"{f.filename} is not a PDF")
        saved.append(path)
    if not saved:
        raise DemoFailed("no files were uploaded")
    return saved
