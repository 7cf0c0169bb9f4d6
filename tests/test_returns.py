"""Return labels: an inbound consignment made from the one the customer received.

The wire (pure), the client against the sandbox over HTTP, and two full flows through the
real app (signed Slack requests, the stand-in Slack, the sandbox): one at home (prefill,
the Inbound create body, only return services, one allocate under double clicks, the label
in the original's thread, status, manifest leaves it out, cancel, the original untouched),
one from abroad (customs as returned goods).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
from pypdf import PdfReader

from blocks.return_form import return_modal
from blocks.returns import hand_in
from blocks.tracking import tracking_url
from bot.carrier import mapping_create, mapping_quotes
from bot.desk.return_services import return_services_only
from bot.models import (
    Customs,
    Direction,
    ExportReason,
    Money,
    ReturnReason,
    Step,
)
from bot.sandbox.server import SANDBOX_SHIPPING_LOCATION, RunningSandbox
from tests.factories import client_at, quote_set, shipment_request
from tests.form_states import example_customs_state, initial, state_from_modal_initials, typed_over
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, at_once, interaction, wait_for_modal
from tests.test_forms import check_slack_accepts

SANDBOX_SEED = 26
KEY = {"ocp-apim-subscription-key": "test-key"}
RETURN_SERVICES = {"RMT48", "DPDCL", "DHLEXWW", "RMTR48", "EVRIRET"}  # ServiceDirection Inbound


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _calls(h: Harness, since: int) -> list[tuple[str, str]]:
    """The carrier calls made since the log held `since` entries, as (method, path)."""
    return [(e["method"], e["path"]) for e in h.sandbox.requests()[since:]]


def _at_sandbox(sandbox: RunningSandbox, reference: str) -> dict[str, Any]:
    """What the sandbox holds for a consignment: it echoes the create body it was sent."""
    reply = httpx.get(f"{sandbox.url}/consignments/{reference}", headers=KEY, timeout=5)
    return dict(reply.json())


# -- the wire ----------------------------------------------------------------------------


def test_a_return_is_created_inbound_from_the_customer_to_our_location() -> None:
    request = shipment_request("RET-1182").model_copy(update={"direction": Direction.INBOUND})
    body = json.loads(mapping_create.create_consignment_request(request, "DC1").to_wire())
    assert body["Direction"] == "Inbound"
    assert body["ConsignmentReferenceProvidedByCustomer"] == "RET-1182"
    origin, destination = body["Addresses"]
    assert origin["AddressType"] == "Origin" and "ShippingLocationReference" not in origin
    assert origin["Contact"]["LastName"] == "Customer" and origin["Postcode"] == "SW1A 2AA"
    assert destination == {
        "AddressType": "Destination",
        "ShippingLocationReference": "DC1",
        "IsCached": False,
    }
    outbound = json.loads(
        mapping_create.create_consignment_request(shipment_request(), "DC1").to_wire()
    )
    assert outbound["Direction"] == "Outbound"
    assert outbound["Addresses"][0]["ShippingLocationReference"] == "DC1"


def test_service_direction_decides_what_a_return_may_offer() -> None:
    assert mapping_quotes.takes_inbound("Inbound, Outbound") is True
    assert mapping_quotes.takes_inbound("inbound") is True
    assert mapping_quotes.takes_inbound("Outbound") is False
    assert mapping_quotes.takes_inbound(None) is None and mapping_quotes.takes_inbound(2) is None
    offered = quote_set("EC-1", 3)
    q0, q1, q2 = offered.quotes
    mixed = offered.model_copy(
        update={
            "quotes": (
                q0.model_copy(update={"inbound": True}),
                q1.model_copy(update={"inbound": False}),
                q2,  # says nothing: PRO quoted it for this inbound consignment, so it stays
            )
        }
    )
    kept = return_services_only(mixed)
    assert [q.reference for q in kept.quotes] == [q0.reference, q2.reference]
    assert [u.reason for u in kept.unqualified] == [
        "Not a returns service (the carrier's ServiceDirection is Outbound only)."
    ]


def test_the_sandbox_quotes_an_inbound_consignment_return_services_only(
    fresh_sandbox: RunningSandbox,
) -> None:
    client = client_at(fresh_sandbox.url, "key", backoff=0.01)
    try:
        request = shipment_request("RET-9").model_copy(update={"direction": Direction.INBOUND})
        reference = client.create_consignment(request, SANDBOX_SHIPPING_LOCATION)
        quotes = client.get_quotes(reference).quotes
        assert quotes and all(q.inbound for q in quotes)
        assert {q.service_code.removeprefix("MPD_") for q in quotes} <= RETURN_SERVICES
        assert "MPD_RMTR48" in {q.service_code for q in quotes}  # a returns-only service
        outbound = client.get_quotes(
            client.create_consignment(shipment_request(), "SHIPBOT_SANDBOX_DC")
        )
        assert "MPD_RMTR48" not in {q.service_code for q in outbound.quotes}
        assert any(q.inbound is False for q in outbound.quotes)
        # A return needs the location it goes back to.
        bare = json.loads(mapping_create.create_consignment_request(request, "X").to_wire())
        del bare["Addresses"][1]["ShippingLocationReference"]
        refused = httpx.post(f"{fresh_sandbox.url}/consignments", json=bare, headers=KEY, timeout=5)
        assert refused.status_code == 400 and "ShippingLocationReference" in refused.text
    finally:
        client.close()


def test_the_return_form_is_one_slack_accepts() -> None:
    draft = shipment_request("RET-1182").model_copy(update={"direction": Direction.INBOUND})
    view = return_modal("{}", request=draft, original_reference="EC-1", earlier_returns=["EC-2"])
    check_slack_accepts(view)
    assert "Already made for it: EC-2" in json.dumps(view["blocks"][0])


# -- a return from the thread, end to end ---------------------------------------------------


def _card(h: Harness, text: str) -> str:
    h.driver.command(text)
    url = h.driver.last_response_url
    assert url
    h.wait(lambda: bool(h.fake.responses_to(url)))
    return _dump(h.fake.responses_to(url)[-1])


def test_a_return_label_from_the_thread(harness: Harness) -> None:
    h = harness
    original = h.quoted()
    # Nothing to return before the label is bought.
    early = h.driver.command(f"return {original.reference}").json()
    assert "once it is allocated" in early["text"]
    h.click_quote(original)
    original = h.wait_step(original.id, Step.UPLOADED)
    assert original.quotes_ts and original.message_ts and original.allocation
    top_before = h.fake.message(CHANNEL, original.message_ts).blocks
    assert "return_label" in _dump(h.quotes_message(original).blocks)

    # The form, filled in from the consignment: the customer as the sender.
    opened = len(h.fake.opened_views())
    assert h.driver.click(CHANNEL, original.quotes_ts, "return_label").status_code == 200
    view = wait_for_modal(h.fake, opened)
    assert view["callback_id"] == "ship_return"
    assert f"Return of {original.reference}" in _dump(view["blocks"][0])
    customer = original.request.recipient
    assert initial(view, "recipient_name") == customer.name
    assert initial(view, "recipient_email") == customer.email
    assert initial(view, "recipient_phone") == customer.phone
    assert initial(view, "address_line1") == customer.line1
    assert initial(view, "address_postcode") == customer.postcode
    assert initial(view, "parcel_count") == "2"  # as they went out, editable
    assert initial(view, "parcel_weight_kg") == "1.2"
    assert initial(view, "shipper_reference") == "RET-1182"
    assert initial(view, "return_reason") is None

    # The reason is required, and Other needs words.
    errors = h.driver.submit_view(view, typed_over(view, return_reason="Other")).json()
    assert errors["response_action"] == "errors" and "return_note" in errors["errors"]

    # Sorted PRO may quote every service (undocumented): we still offer return ones only.
    h.sandbox.sandbox.state.set_quote_every_direction(True)
    since = len(h.sandbox.requests())
    submitted = typed_over(
        view, parcel_count="1", return_reason="Damaged", return_note="Box crushed"
    )
    response = h.driver.submit_view(view, submitted)
    assert response.status_code == 200 and not response.content.strip(), response.text
    back = h.store.find_by_reference("RET-1182")
    assert back is not None and back.returns == original.id
    back = h.wait_step(back.id, Step.QUOTED)
    assert back.carrier_reference and back.quotes_ts and back.message_ts
    made = _calls(h, since)

    # The create body: Inbound, the customer as Origin, our location as Destination.
    held = _at_sandbox(h.sandbox, back.carrier_reference)
    assert held["Direction"] == "Inbound"
    assert held["ConsignmentReferenceProvidedByCustomer"] == "RET-1182"
    origin, destination = held["Addresses"]
    assert origin["AddressType"] == "Origin" and origin["Postcode"] == "SW1A 2AA"
    assert origin["Contact"]["FirstName"] == "Rosa" and not origin["ShippingLocationReference"]
    assert destination["ShippingLocationReference"] == SANDBOX_SHIPPING_LOCATION
    assert len(held["Packages"]) == 1

    # Only return services, listed in the original's thread.
    offered = {q.service_code.removeprefix("MPD_") for q in back.quotes}
    assert offered and offered <= RETURN_SERVICES
    assert any("returns service" in u.reason for u in back.unqualified)
    listed = _dump(h.fake.message(CHANNEL, back.quotes_ts).blocks)
    assert "not a returns service (" in listed
    # Not within the UK: said as a return's (it comes from the customer's address).
    assert "not from this address (Royal Mail International Tracked, DHL Express" in listed
    in_thread = {m.ts for m in h.fake.thread(CHANNEL, original.message_ts)}
    assert {back.message_ts, back.quotes_ts} <= in_thread
    assert h.fake.message(CHANNEL, back.message_ts).thread_ts == original.message_ts
    assert f"Return of {original.reference}" in _dump(
        h.fake.message(CHANNEL, back.message_ts).blocks
    )

    # Choose: exactly one allocate, however many clicks (two agents and a double click, all
    # built from the message as they saw it).
    allocations = h.allocations_at_carrier()
    since = len(h.sandbox.requests())
    at_once(*(partial(h.post, h.quote_click(back, user=u)) for u in (AGENT, AGENT, AGENT2)))
    back = h.wait_step(back.id, Step.UPLOADED)
    assert h.allocations_at_carrier() == allocations + 1
    assert back.allocation is not None
    # The calls a return makes (docs/returns.md lists them).
    ref = back.carrier_reference
    assert made + _calls(h, since) == [
        ("POST", "/consignments"),
        ("GET", f"/quotes/consignment/{ref}"),
        ("PUT", f"/allocation/{ref}/allocatewithquote/{back.quotes[0].reference}"),
        ("GET", f"/labels/{ref}/pdf"),
    ]

    # The label, in the original's thread, with the sentence for the customer.
    files = [f for f in h.fake.files if f.filename == f"{back.carrier_reference}.pdf"]
    assert len(files) == 1 and files[0].thread_ts == original.message_ts
    assert "RETURN" in PdfReader(io.BytesIO(files[0].data)).pages[0].extract_text()
    (label_message,) = [
        m
        for m in h.fake.thread(CHANNEL, original.message_ts)
        if m.files and back.reference in m.text
    ]
    assert f"Return label made by <@{back.claimed_by}>" in label_message.text
    assert "For the customer" in label_message.text
    assert back.allocation.tracking_numbers[0] in label_message.text
    assert "return label" in label_message.text.lower() and "http" in label_message.text
    # How to send it (where this carrier takes it) and the tracking link, ready to paste.
    code, number = back.allocation.carrier_code, back.allocation.tracking_numbers[0]
    assert f"{hand_in(code)}: it is pre-paid" in label_message.text
    assert f"You can follow it at {tracking_url(code, number)}" in label_message.text

    # Status, list and audit know a return, and name its original.
    status = _card(h, f"status {back.reference}")
    assert f"Return of {original.reference}" in status
    assert "pre-paid" in status  # the return's sentence, not delivery news
    listed = _dump(h.driver.command("list all").json())
    assert f"Return of {original.reference}" in listed
    audit = _dump(h.driver.command(f"audit {back.reference}").json())
    assert f"Return of {original.reference}" in audit
    assert any(
        e.action == "return label" and e.detail == back.reference
        for e in h.store.audit_log(original.id)
    )
    assert "itself a return" in h.driver.command(f"return {back.reference}").json()["text"]

    h.driver.event({"type": "app_home_opened", "user": AGENT, "channel": "D0HOME", "tab": "home"})
    h.wait(lambda: AGENT in h.fake.home_views)
    home = _dump(h.fake.home_views[AGENT]["blocks"])
    assert "Return labels made · 1" in home and "Allocated, waiting for the manifest · 1" in home
    assert f"Return of {original.reference}" in home

    # The manifest takes the outbound parcel, not the return (the customer hands it in).
    h.driver.command("manifest")
    h.wait_step(original.id, Step.MANIFESTED)
    assert h.store.require(back.id).step is Step.UPLOADED
    assert _at_sandbox(h.sandbox, back.carrier_reference)["ConsignmentState"] == "Allocated"

    # A return is cancelled like any consignment; the original stays as it was.
    since = len(h.sandbox.requests())
    assert h.driver.click(CHANNEL, back.quotes_ts, "op_cancel").status_code == 200
    h.wait_step(back.id, Step.CANCELLED)
    assert _calls(h, since) == [("PUT", f"/consignments/{ref}/cancel")]
    assert _at_sandbox(h.sandbox, back.carrier_reference)["ConsignmentState"] == "Cancelled"
    untouched = h.store.require(original.id)
    assert untouched.step is Step.MANIFESTED and untouched.request == original.request
    assert untouched.allocation == original.allocation
    assert _at_sandbox(h.sandbox, original.carrier_reference or "")["Direction"] == "Outbound"
    # Its channel message changed only by its own manifest, never by the return.
    top_after = _dump(h.fake.message(CHANNEL, original.message_ts).blocks)
    assert "↩️" not in top_after and "↩️" not in _dump(top_before)
    assert "✅ Manifested" in top_after and original.reference in top_after


def test_a_return_from_abroad_declares_returned_goods(harness: Harness) -> None:
    h = harness
    original = h.quoted(international=True, order_number="7701")
    assert original.request.customs is not None
    h.click_quote(original)
    original = h.wait_step(original.id, Step.UPLOADED)

    opened = len(h.fake.opened_views())
    # By order number, from another place than the thread.
    assert not h.driver.command("return 7701").content.strip()
    view = wait_for_modal(h.fake, opened)
    assert initial(view, "address_country") == "FR"
    assert initial(view, "shipper_reference") == "RET-7701"
    page = h.driver.submit_view(view, typed_over(view, return_reason="Not wanted")).json()
    assert page["response_action"] == "update", page
    customs = page["view"]
    check_slack_accepts(customs)  # what the bot answered, before Slack adds its own keys
    declared = original.request.customs
    assert initial(customs, "customs_hs_code") == declared.hs_code
    assert initial(customs, "customs_contents") == declared.contents
    assert initial(customs, "customs_reason") == "Return"
    reasons = [b for b in customs["blocks"] if b.get("block_id") == "customs_reason"]
    assert [o["value"] for o in reasons[0]["element"]["options"]] == ["Return"]

    # A crafted page 2 with another reason is refused: a return is returned goods.
    crafted = example_customs_state(customs_reason="Sale")
    refused = h.driver.submit_view(view["id"], crafted).json()
    assert refused["response_action"] == "errors"

    response = h.driver.submit_view(view["id"], state_from_modal_initials(customs))
    assert response.status_code == 200 and not response.content.strip(), response.text
    back = h.store.find_by_reference("RET-7701")
    assert back is not None and back.returns == original.id
    assert back.request.customs == Customs(
        contents=declared.contents,
        hs_code=declared.hs_code,
        origin_country=declared.origin_country,
        item_value=Money(amount=Decimal("49.99"), currency="GBP"),
        reason=ExportReason.RETURN,
    )
    assert back.request.return_reason is ReturnReason.NOT_WANTED
    back = h.wait_step(back.id, Step.QUOTED)
    since = len(h.sandbox.requests())
    h.click_quote(back)
    h.wait_step(back.id, Step.UPLOADED)
    ref = back.carrier_reference
    assert _calls(h, since) == [
        ("PUT", f"/allocation/{ref}/allocatewithquote/{back.quotes[0].reference}"),
        ("GET", f"/labels/{ref}/pdf"),
        ("GET", f"/consignments/docs/{ref}"),  # its customs forms, for the customer to print
    ]
    assert original.message_ts
    shared = [f.filename for f in h.fake.files if f.thread_ts == original.message_ts]
    assert f"{ref}.pdf" in shared and f"{ref}-cn22-1.pdf" in shared
    (label_message,) = [
        m
        for m in h.fake.thread(CHANNEL, original.message_ts)
        if m.files and back.reference in m.text
    ]
    assert "Print the customs forms too" in label_message.text
    held = _at_sandbox(h.sandbox, back.carrier_reference or "")
    assert held["Direction"] == "Inbound"
    assert held["CustomsDocumentation"]["CategoryType"] == "ReturnedGoods"
    assert held["Addresses"][0]["Country"]["IsoCode"]["TwoLetterCode"] == "FR"
    items = [item for package in held["Packages"] for item in package["Items"]]
    assert items and {i["HarmonisationCode"] for i in items} == {declared.hs_code}
    assert all(q.inbound for q in back.quotes)
    assert h.store.require(original.id).step is Step.UPLOADED


def _uploaded_with_return_form(h: Harness, **ship: Any) -> tuple[Any, dict[str, Any]]:
    """A consignment with its label, and its return form opened from the thread's button."""
    original = h.quoted(**ship)
    h.click_quote(original)
    original = h.wait_step(original.id, Step.UPLOADED)
    assert original.quotes_ts
    opened = len(h.fake.opened_views())
    assert h.driver.click(CHANNEL, original.quotes_ts, "return_label").status_code == 200
    return original, wait_for_modal(h.fake, opened)


def test_a_carrier_refusal_of_a_return_reopens_the_return_form(harness: Harness) -> None:
    """The customer moved: the agent types a postcode the carrier refuses. Edit the form
    brings back the return form (not /ship's), and the fixed return is still Inbound."""
    h = harness
    original, view = _uploaded_with_return_form(h)
    typed = typed_over(view, address_postcode="ZY1 1AA", return_reason="Damaged")
    assert h.driver.submit_view(view, typed).status_code == 200
    back = h.store.find_by_reference("RET-1182")
    assert back is not None
    failed = h.wait_step(back.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.fields == ("address_postcode",)
    assert failed.message_ts and original.message_ts
    (refusal,) = [
        m for m in h.fake.thread(CHANNEL, original.message_ts) if '"edit_form"' in _dump(m.blocks)
    ]
    assert "⚠️ Return RET-1182: Sorted PRO refused the postcode" in refusal.text
    assert h.sandbox.count("POST", r"^/consignments$") == 2  # the original's, the return's

    opened = len(h.fake.opened_views())
    h.driver.click(CHANNEL, refusal.ts, "edit_form", str(back.id))
    again = wait_for_modal(h.fake, opened)
    assert again["callback_id"] == "ship_return"
    assert "refused the postcode" in _dump(again["blocks"][0])
    assert initial(again, "return_reason") == "Damaged"
    assert initial(again, "shipper_reference") == "RET-1182"

    # The /ship form's callback with this return's metadata (an old view): not a return.
    crafted = h.driver.view_submission_payload(
        again, typed_over(again, address_postcode="SW1A 2AA")
    )
    crafted["view"]["callback_id"] = "ship_form"
    answer = h.post(interaction(crafted)).json()
    assert answer["response_action"] == "errors", answer
    assert h.store.require(back.id).step is Step.FAILED

    fixed = typed_over(again, address_postcode="SW1A 2AA")
    response = h.driver.submit_view(again, fixed)
    assert response.status_code == 200 and not response.content.strip(), response.text
    back = h.wait_step(back.id, Step.QUOTED)
    assert back.message_ts == failed.message_ts and back.returns == original.id
    assert back.request.is_return and back.request.return_reason is ReturnReason.DAMAGED
    held = _at_sandbox(h.sandbox, back.carrier_reference or "")
    assert held["Direction"] == "Inbound" and held["Addresses"][0]["Postcode"] == "SW1A 2AA"
    assert back.quotes and all(q.inbound for q in back.quotes)
    assert h.store.require(original.id).request == original.request


def test_a_return_no_carrier_offers_says_so_in_the_thread(harness: Harness) -> None:
    """The customer packed it in a bigger box: no return service takes 25 kg, 110 cm long.
    Nothing is bought, and the way out is the original's Return label, not /ship."""
    h = harness
    original, view = _uploaded_with_return_form(h)
    allocations = h.allocations_at_carrier()
    typed = typed_over(
        view,
        parcel_count="1",
        parcel_weight_kg="25",
        parcel_length_cm="110",
        return_reason="Other",
        return_note="Sent back in a bigger box",
    )
    assert h.driver.submit_view(view, typed).status_code == 200
    back = h.store.find_by_reference("RET-1182")
    assert back is not None
    failed = h.wait_step(back.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.kind == "NoQuotes"
    assert not failed.quotes and h.allocations_at_carrier() == allocations
    assert original.message_ts
    said = _dump([m.blocks for m in h.fake.thread(CHANNEL, original.message_ts)])
    assert "No carrier offers a return for this parcel (" in said
    assert "takes at most 20 kg per package" in said  # the carrier's reasons, translated
    assert f"press Return label on {original.reference} again" in said
    assert "run `/ship` again" not in said
    assert h.store.require(original.id).step is Step.UPLOADED


def test_a_cancelled_consignment_has_no_return(harness: Harness) -> None:
    h = harness
    original = h.quoted()
    h.click_quote(original)
    original = h.wait_step(original.id, Step.UPLOADED)
    assert original.quotes_ts
    assert h.driver.click(CHANNEL, original.quotes_ts, "op_cancel").status_code == 200
    h.wait_step(original.id, Step.CANCELLED)
    opened = len(h.fake.opened_views())
    refused = h.driver.command(f"return {original.reference}").json()
    assert "was cancelled, so nothing went to the customer to send back" in refused["text"]
    assert len(h.fake.opened_views()) == opened and h.store.find_by_reference("RET-1182") is None
    assert any(
        e.action == "return" and e.outcome == "refused" for e in h.store.audit_log(original.id)
    )


def test_a_return_form_that_lost_its_original_is_refused(harness: Harness) -> None:
    """Submissions no real Slack client sends for this form: the /ship form's callback with a
    return's metadata, and the return form without it. Both answered in the modal."""
    h = harness
    _, view = _uploaded_with_return_form(h)
    typed = typed_over(view, return_reason="Damaged")
    as_ship_form = h.driver.view_submission_payload(view, typed)
    as_ship_form["view"]["callback_id"] = "ship_form"
    answer = h.post(interaction(as_ship_form)).json()
    assert answer["response_action"] == "errors"
    assert "lost which consignment it returns" in _dump(answer["errors"])
    no_metadata = h.driver.view_submission_payload(view, typed)
    no_metadata["view"]["private_metadata"] = ""
    answer = h.post(interaction(no_metadata)).json()
    assert answer["response_action"] == "errors" and "lost its channel" in _dump(answer)
    assert h.store.find_by_reference("RET-1182") is None


# -- after the label: the customer hands it in, the watcher tells its journey ----------------

TRACKING_STEP = 600.0  # the sandbox's default tracking step, seconds


def _return_with_label(h: Harness) -> tuple[Any, Any]:
    original, view = _uploaded_with_return_form(h)
    submitted = h.driver.submit_view(view, typed_over(view, return_reason="Wrong item"))
    assert submitted.status_code == 200
    back = h.store.find_by_reference("RET-1182")
    assert back is not None
    h.click_quote(h.wait_step(back.id, Step.QUOTED))
    return original, h.wait_step(back.id, Step.UPLOADED)


def _watch(h: Harness, advance: float = 0.0) -> Any:
    """One tick of the delivery watcher, with the sandbox's clock as now."""
    if advance:
        h.sandbox.advance_clock(advance)
    assert h.bot.watcher is not None
    report = h.bot.watcher.tick(h.sandbox.now())
    h.bot.runner.wait_idle()
    return report


def test_after_its_label_a_return_is_followed_back_in_the_original_thread(
    harness: Harness,
) -> None:
    h = harness
    original, back = _return_with_label(h)
    assert original.message_ts and back.message_ts and back.carrier_reference
    ref = back.carrier_reference
    before = len(h.fake.thread(CHANNEL, original.message_ts))
    _watch(h, TRACKING_STEP)  # not handed in yet: Allocated is nothing to tell
    assert len(h.fake.thread(CHANNEL, original.message_ts)) == before

    # The sandbox's control: only an allocated return can be handed in.
    refused = httpx.post(
        f"{h.sandbox.url}/__sandbox/journey",
        json={"reference": original.carrier_reference, "states": ["InTransit"], "handed_in": True},
        timeout=5,
    )
    assert refused.status_code == 400 and "Only an allocated return" in refused.text
    h.sandbox.set_journey(ref, "InTransit", "Delivered", handed_in=True)
    _watch(h, TRACKING_STEP)
    h.wait(lambda: "🚚 In transit" in h.fake.message(CHANNEL, back.message_ts or "").text)
    lines = [m.text for m in h.fake.thread(CHANNEL, original.message_ts)[before:]]
    said = _dump([m.blocks for m in h.fake.thread(CHANNEL, original.message_ts)[before:]])
    assert f"↩️ Return *{back.reference}* (of {original.reference}) · 🚚 In transit" in said
    assert "on its way back" in h.fake.message(CHANNEL, back.message_ts).text, lines

    _watch(h, TRACKING_STEP)
    h.wait(lambda: "📬 Delivered" in h.fake.message(CHANNEL, back.message_ts or "").text)
    said = _dump([m.blocks for m in h.fake.thread(CHANNEL, original.message_ts)[before:]])
    assert f"↩️ Return *{back.reference}* (of {original.reference}) · 📬 Delivered" in said
    kept = h.store.require(back.id)
    assert kept.step is Step.UPLOADED and kept.delivery is not None
    assert kept.delivery.state.value == "Delivered"
    status = _card(h, f"status {back.reference}")
    assert f"Return of {original.reference}" in status
    # The original's journey is its own: its line and record say nothing of the return's.
    untouched = h.store.require(original.id)
    assert untouched.delivery is None and untouched.step is Step.UPLOADED
    assert "Delivered" not in h.fake.message(CHANNEL, original.message_ts).text


def test_a_return_lost_on_its_way_back_needs_an_agent_not_a_replacement(
    fake_slack: Any, sandbox: RunningSandbox, tmp_path: Any
) -> None:
    """Without the events query the watcher reads ours on the way: returns with a label too."""
    from tests.harness import running_bot

    sandbox.sandbox.state.state_events_enabled = False
    with running_bot(fake_slack, sandbox, tmp_path / "lost.db") as h:
        original, back = _return_with_label(h)
        assert original.message_ts and back.carrier_reference
        assert h.store.watched(10) == [(back.id, back.carrier_reference)]
        h.sandbox.set_journey(back.carrier_reference, "InTransit", "Lost", handed_in=True)
        report = _watch(h, 2 * TRACKING_STEP)
        assert report.mode == "fallback"
        assert h.sandbox.count("GET", rf"^/consignments/{back.carrier_reference}$") >= 1

        def notice() -> Any:
            found = [
                m
                for m in h.fake.thread(CHANNEL, original.message_ts or "")
                if "needs you" in m.text or "needs you" in _dump(m.blocks)
            ]
            return found[-1] if found else None

        h.wait(lambda: notice() is not None)
        message = notice()
        text = _dump(message.blocks)
        assert f"↩️ Return *{back.reference}* (of {original.reference})" in text
        assert "the customer's return (order 1182)" in text and "tell the customer" in text
        actions = [
            e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
        ]
        assert "ship_again" not in actions and "delivery_handled" in actions
        assert h.store.watched(10) == []  # its journey is over


def test_the_docs_explain_returns_in_our_words() -> None:
    """docs/returns.md lists the calls the flows above make, the manifest decision and the
    guesses; the README's Returns section points to it. Neither names files outside."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "returns.md").read_text()
    for call in (
        "`POST /consignments`",
        "`GET /quotes/consignment/{ref}`",
        "`PUT /allocation/{ref}/allocatewithquote/{quoteRef}`",
        "`GET /labels/{ref}/pdf`",
        "`GET /consignments/docs/{ref}`",
        "`PUT /consignments/{ref}/cancel`",
    ):
        assert call in page, call
    assert "not manifested with the outbound parcels" in page and "GUESS" in page
    readme = (root / "README.md").read_text()
    section = readme.split("\n## Returns\n", 1)[1].split("\n## ", 1)[0]
    assert "(docs/returns.md)" in section
    for text in (page, section):
        assert "../shared" not in text and "/work/" not in text
