"""The delivery watcher through the real interfaces: the sandbox's state events over HTTP,
the real app's Slack calls to the fake Slack. Ticks are driven directly with the sandbox's
clock as "now" (the sandbox clock is moved on instead of sleeping); one test runs the
watcher on its own thread with a real, short interval."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks import delivery as render
from bot.carrier_states import ConsignmentState, StateChange
from bot.desk import lookup
from bot.desk.watch import OVERLAP, TickReport, Watcher
from bot.devslack.server import FakeSlack, Message
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import SANDBOX_SHIPPING_LOCATION, RunningSandbox
from tests.factories import client_at, parcel, shipment_request
from tests.harness import AGENT, CHANNEL, Harness, Runs, running_bot, wait_for_modal
from tests.wire_server import Reply, WireServer

STEP = 600.0  # the sandbox's tracking step
DESK = "C0EXCEPT1"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def desk(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    with running_bot(
        fake_slack, sandbox, tmp_path / "watch.db", shipbot_exceptions_channel=DESK
    ) as h:
        yield h


def _manifested(h: Harness) -> ConsignmentRecord:
    record = h.quoted()
    h.click_quote(record)
    h.wait_step(record.id, Step.UPLOADED)
    h.driver.command("manifest", user=AGENT)
    record = h.wait_step(record.id, Step.MANIFESTED)
    assert record.message_ts
    _BEFORE[record.message_ts] = len(h.fake.thread(record.channel_id, record.message_ts))
    return record


# How many messages each thread had at its manifest: the watcher's lines come after them.
_BEFORE: dict[str, int] = {}


def _watcher(h: Harness) -> Watcher:
    assert h.bot.watcher is not None
    return h.bot.watcher


def _tick(h: Harness, advance: float = 0.0) -> TickReport:
    if advance:
        h.sandbox.advance_clock(advance)
    report = _watcher(h).tick(h.sandbox.now())
    h.bot.runner.wait_idle()
    return report


def _lines(h: Harness, c: ConsignmentRecord) -> list[Message]:
    assert c.message_ts
    return h.fake.thread(c.channel_id, c.message_ts)[_BEFORE[c.message_ts] :]


def _state_line(h: Harness, c: ConsignmentRecord) -> str:
    assert c.message_ts
    return h.fake.message(c.channel_id, c.message_ts).text


def _buttons(message: Message) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks
        for e in ([b["accessory"]] if "accessory" in b else b.get("elements", []))
        if e.get("type") == "button"
    ]


def _webshop(sandbox: RunningSandbox, order: str, town: str, *journey: str) -> str:
    """A consignment the webshop made through the API itself: shipbot never saw it."""
    from bot.models import Money, Recipient, ShipmentRequest

    request = ShipmentRequest(
        shipper_reference=order,
        order_number=order,
        recipient=Recipient(
            name="Wendy Shopper", line1="2 Mill Lane", town=town, postcode="LS1 4AP", country="GB"
        ),
        parcel=parcel(1, 20, 10, 5),
        value=Money(amount=20),
        contents="Mugs",
    )
    with client_at(sandbox.url, "webshop-key", read_timeout=2.0) as webshop:
        reference = webshop.create_consignment(request, SANDBOX_SHIPPING_LOCATION)
        webshop.allocate_with_quote(webshop.get_quotes(reference).quotes[0])
        webshop.manifest_from_query([SANDBOX_SHIPPING_LOCATION])
    sandbox.set_journey(reference, *journey)
    return reference


def test_each_change_is_posted_once_and_delivered_names_who_signed(desk: Harness) -> None:
    c = _manifested(desk)
    quiet = _tick(desk)
    assert quiet.carrier_calls == 1 and quiet.changes == 0  # a quiet carrier: one query
    assert _lines(desk, c) == []

    _tick(desk, STEP)
    desk.wait(lambda: "🚚 In transit" in _state_line(desk, c))
    assert [m.text for m in _lines(desk, c)] == [f"{c.reference}: 🚚 In transit"]
    again = _tick(desk)  # the same window again (overlap): nothing new
    assert again.changes == 0 and len(_lines(desk, c)) == 1

    _tick(desk, 2 * STEP)  # out for delivery and delivered in one window
    desk.wait(lambda: "📬 Delivered · signed by R. Customer" in _state_line(desk, c))
    texts = [m.text for m in _lines(desk, c)]
    assert texts == [
        f"{c.reference}: 🚚 In transit",
        f"{c.reference}: 🚚 Out for delivery",
        f"{c.reference}: 📬 Delivered · signed by R. Customer",
    ]
    assert desk.store.require(c.id).delivery is not None
    _tick(desk, STEP)
    assert len(_lines(desk, c)) == 3
    assert desk.fake.messages(DESK) == []  # no exception: nothing for the desk channel


def test_a_restart_repeats_nothing_and_misses_nothing(runs: Runs, sandbox: RunningSandbox) -> None:
    with runs() as first:
        c = _manifested(first)
        before = _tick(first, STEP)
        first.wait(lambda: len(_lines(first, c)) == 1)
    assert before.window is not None
    sandbox.advance_clock(STEP)  # out for delivery while no bot runs
    with runs() as second:
        after = _tick(second)
        second.wait(lambda: "🚚 Out for delivery" in _state_line(second, c))
        assert after.window is not None
        # The new process starts where the old one stopped (less the overlap): no gap.
        assert after.window[0] == before.window[1] - OVERLAP
        texts = [m.text for m in _lines(second, c)]
        assert texts == [f"{c.reference}: 🚚 In transit", f"{c.reference}: 🚚 Out for delivery"]


def test_an_exception_names_its_agent_and_offers_a_replacement(desk: Harness) -> None:
    c = _manifested(desk)
    desk.sandbox.set_journey(c.carrier_reference or "", "InTransit", "DeliveryFailedCardLeft")
    _tick(desk, 2 * STEP)
    desk.wait(lambda: "⚠️ Delivery failed — card left" in _state_line(desk, c))
    notice = _lines(desk, c)[-1]
    assert f"<@{AGENT}>" in str(notice.blocks)
    assert _buttons(notice) == ["ship_again", "op_status", "delivery_handled"]
    desk.driver.event(
        {"type": "app_home_opened", "user": AGENT, "channel": "D0HOME", "tab": "home"}
    )
    desk.wait(lambda: AGENT in desk.fake.home_views)
    home = str(desk.fake.home_views[AGENT]["blocks"])
    assert "Needs attention · 1" in home and "Delivery failed — card left" in home
    # Ours reaches the exceptions channel too, naming who shipped it.
    desk.wait(lambda: len(desk.fake.messages(DESK)) == 1)
    assert f"<@{AGENT}>" in str(desk.fake.messages(DESK)[0].blocks)

    opened = len(desk.fake.opened_views())
    block = f"exception-{c.id}"
    desk.driver.click(c.channel_id, notice.ts, "ship_again", str(c.id), block_id=block)
    assert wait_for_modal(desk.fake, opened)["callback_id"] == "ship_form"

    desk.driver.click(
        c.channel_id, notice.ts, "delivery_handled", str(c.id), block_id=f"exception-{c.id}"
    )
    desk.wait(lambda: "handled by" in str(desk.fake.message(c.channel_id, notice.ts).blocks))
    assert "delivery_handled" not in _buttons(desk.fake.message(c.channel_id, notice.ts))
    assert [e.actor for e in desk.store.audit_log(c.id) if e.action == "handled"] == [AGENT]
    assert lookup.attention(desk.bot.core, AGENT)[1] == 0  # App Home stops listing it


def test_notify_names_groups_and_users_instead_of_the_agent() -> None:
    c = ConsignmentRecord(
        id=1,
        request=shipment_request(),
        channel_id=CHANNEL,
        created_by=AGENT,
        created_at=datetime(2026, 12, 3, tzinfo=LONDON),
        step=Step.MANIFESTED,
    )
    change = StateChange(reference="EC-1", state=ConsignmentState.LOST, raw_state="Lost")
    notice = render.exception_notice(c, change, datetime(2026, 12, 3), ["S0DESK", "U0LEAD"])
    text = str(notice.blocks)
    assert "<!subteam^S0DESK> <@U0LEAD>" in text and f"<@{c.created_by}>" not in text


def test_a_webshop_loss_reaches_the_exceptions_channel_with_a_take_over(desk: Harness) -> None:
    lost = _webshop(desk.sandbox, "WEB-1001", "Leeds", "InTransit", "Lost")
    damaged = _webshop(desk.sandbox, "WEB-1002", "York", "InTransit", "Damaged")
    _tick(desk)  # the cursor starts here
    report = _tick(desk, 2 * STEP)
    assert report.changes == 4  # two in transit, one lost, one damaged
    desk.wait(lambda: len(desk.fake.messages(DESK)) == 1)
    [posted] = desk.fake.messages(DESK)  # grouped: one message for both
    text = str(posted.blocks)
    assert "WEB-1001" in text and "to Leeds LS1 4AP, GB" in text and "⚠️ Lost" in text
    assert "WEB-1002" in text and "⚠️ Damaged" in text
    assert _buttons(posted) == ["take_over", "take_over"]
    assert _tick(desk).posted == 0  # told once

    # Take over: the delivery desk adopts it into a thread where the button was pressed.
    ephemerals = len(desk.fake.ephemerals)
    desk.driver.click(DESK, posted.ts, "take_over", lost, block_id=posted.blocks[1].get("block_id"))
    desk.wait(lambda: desk.store.id_of_carrier_reference(lost) is not None)
    desk.wait(lambda: len(desk.fake.ephemerals) > ephemerals)
    adopted = desk.store.require(desk.store.id_of_carrier_reference(lost) or 0)
    assert adopted.channel_id == DESK and adopted.created_by == AGENT
    assert adopted.delivery is not None and adopted.delivery.state is ConsignmentState.LOST
    desk.wait(lambda: "⚠️ Lost" in _state_line(desk, adopted))
    card = str(desk.fake.ephemerals[-1])
    assert lost in card and "WEB-1001" in card
    assert [e.action for e in desk.store.audit_log(adopted.id)][:1] == ["take over"]
    assert desk.store.id_of_carrier_reference(damaged) is None


def test_the_fallback_reads_consignments_when_the_events_query_is_refused(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sandbox.sandbox.state.state_events_enabled = False
    with running_bot(fake_slack, sandbox, tmp_path / "poll.db", shipbot_track_per_minute=1) as h:
        c = _manifested(h)
        report = _tick(h, STEP)
        assert report.mode == "fallback"
        h.wait(lambda: "🚚 In transit" in _state_line(h, c))
        assert sandbox.count("POST", r"^/events/consignments/stateevents$") == 1
        assert sandbox.count("POST", r"^/events/consignmentstateevents$") == 1
        looked = sandbox.count("GET", rf"^/consignments/{c.carrier_reference}$")
        later = _tick(h, STEP)  # within the minute: the one call a minute is spent
        assert later.mode == "fallback" and later.carrier_calls == 0
        assert sandbox.count("GET", rf"^/consignments/{c.carrier_reference}$") == looked
        assert sandbox.count("POST", r"^/events/") == 2  # not asked again for an hour


def test_the_late_list_goes_out_at_its_time_once_a_day(desk: Harness) -> None:
    c = _manifested(desk)
    desk.sandbox.set_journey(c.carrier_reference or "", "InTransit", "Delayed")
    watcher = _watcher(desk)
    quote = c.chosen_quote
    assert quote is not None and quote.latest_delivery is not None
    today = desk.sandbox.now().astimezone(LONDON).date()

    def at(day: Any, hh: int, mm: int) -> datetime:
        return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LONDON)

    assert not watcher.tick(at(today, 9, 0)).late_posted  # none late: nothing posted
    late_day = quote.latest_delivery.astimezone(LONDON).date() + timedelta(days=2)
    desk.sandbox.advance_clock((at(late_day, 8, 0) - desk.sandbox.now()).total_seconds())
    assert not watcher.tick(at(late_day, 8, 59)).late_posted  # not yet its time
    desk.fake.messages(DESK)
    posted = watcher.tick(at(late_day, 9, 0))
    assert posted.late_posted
    late = [m for m in desk.fake.messages(DESK) if "late consignment" in m.text]
    assert len(late) == 1
    assert "1 late consignment" in late[0].text  # Sorted PRO's list and ours: one row
    assert c.carrier_reference in str(late[0].blocks) and _buttons(late[0]) == ["take_over"]
    assert not watcher.tick(at(late_day, 9, 30)).late_posted  # once a day
    # App Home reads the bot's own clock: pin it to that day (else the real date decides).
    desk.bot.core.clock = lambda: at(late_day, 9, 30)
    assert lookup.attention(desk.bot.core, None)[1] >= 1


def test_windows_follow_each_other_without_a_gap(desk: Harness) -> None:
    watcher = _watcher(desk)
    start = desk.sandbox.now()
    windows = []
    for minutes in (0, 5, 7, 30, 31):
        report = watcher.tick(start + timedelta(minutes=minutes))
        assert report.window is not None
        windows.append(report.window)
    for (_, end), (begin, _) in itertools.pairwise(windows):
        assert begin == end - OVERLAP  # each starts before the last one ended
    assert windows[0][0] == start - timedelta(seconds=watcher.every) - OVERLAP


def test_the_watcher_runs_by_itself_on_its_interval(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sandbox.set_timing(tracking_step_seconds=0.25)
    with running_bot(fake_slack, sandbox, tmp_path / "e2e.db", shipbot_track_every=0.2) as h:
        c = _manifested(h)
        h.sandbox.set_journey(c.carrier_reference or "", "InTransit", "Delivered")
        h.wait(lambda: "📬 Delivered" in _state_line(h, c), timeout=8)
        texts = [m.text for m in _lines(h, c)]
        assert texts[-1] == f"{c.reference}: 📬 Delivered · signed by R. Customer"
        assert len(texts) == len(set(texts))  # each change once


def test_the_events_query_follows_whichever_documented_path_answers(server: WireServer) -> None:
    """CONFLICT in the docs on the path: the gateway's 404 on the first means "try the
    second"; PRO's own 404 (with a Code) means "nothing in the window"; envelopes tolerated."""
    start, end = datetime(2026, 12, 3, 9, tzinfo=LONDON), datetime(2026, 12, 3, 9, 5, tzinfo=LONDON)
    server.reply(
        "POST",
        "/events/consignments/stateevents",
        Reply(404, {"statusCode": 404, "message": "Resource not found"}),
    )
    row = {"ConsignmentReference": "ec-1", "ConsignmentState": 23, "Packages": [{}]}
    server.reply(
        "POST",
        "/events/consignmentstateevents",
        Reply(200, {"Events": [row]}),
        Reply(404, {"Code": "NotFound", "Message": "No events", "CorrelationId": "c-1"}),
    )
    with client_at(server.url, "key", read_timeout=2.0, backoff=0.01) as client:
        [lost] = client.state_events(["Lost"], start, end)
        assert (lost.reference, lost.state) == ("EC-1", ConsignmentState.LOST)
        assert client.state_events(["Lost"], start, end) == ()  # the second path is kept
    sent = server.requests_to("POST", "/events/consignmentstateevents")[0].json()
    assert sent["ConsignmentStates"] == ["Lost"] and sent["Start"] == start.isoformat()
    assert len(server.requests_to("POST", "/events/consignments/stateevents")) == 1
