"""Returns of consignments shipbot did not make, and the return form's prefill.

The sandbox is seeded with the webshop's consignments (bot/sandbox/seed.py); 100239 is
with the carrier already. Signed Slack requests into the real app, the stand-in Slack.
"""

from __future__ import annotations

from blocks.return_form import return_modal
from bot.desk.returns import return_draft
from bot.models import Direction, Step
from bot.sandbox.server import SANDBOX_SHIPPING_LOCATION
from tests.factories import client_at, parcel, shipment_request
from tests.form_states import initial, typed_over
from tests.harness import AGENT, CHANNEL, Harness, wait_for_modal
from tests.test_forms import check_slack_accepts
from tests.test_rescue_desk import (  # noqa: F401 (the seeded sandbox, for conftest's)
    SANDBOX_SEED,
    SANDBOX_SEED_ORDERS,
    buttons,
    card,
    sandbox,
)
from tests.test_returns import RETURN_SERVICES, _at_sandbox, _dump

WITH_THE_CARRIER = "100239"  # made by the webshop, manifested and on its way


def test_the_return_form_is_filled_in_from_what_went_out() -> None:
    """The customer as the sender (name, address, phone, email), the parcels as they went
    out and editable, the four reasons and the words for Other, a new reference."""
    base = shipment_request("EC-1", order_number="1182")
    sent = base.model_copy(
        update={
            "recipient": base.recipient.model_copy(
                update={"email": "rosa@example.com", "phone": "+44 20 7946 0000", "line2": "Flat 2"}
            ),
            "parcel": parcel("2.5", 40, 30, 15),
            "parcel_count": 3,
        }
    )
    draft = return_draft(sent, "RET-1182")
    assert draft.direction is Direction.INBOUND and draft.recipient == sent.recipient
    assert draft.order_number == "1182" and draft.customs is None
    view = return_modal("{}", request=draft, original_reference="EC-1", earlier_returns=[])
    check_slack_accepts(view)
    customer = sent.recipient
    for block_id, value in {
        "recipient_name": customer.name,
        "recipient_email": customer.email,
        "recipient_phone": customer.phone,
        "address_line1": customer.line1,
        "address_line2": customer.line2,
        "address_town": customer.town,
        "address_postcode": customer.postcode,
        "address_country": customer.country,
        "parcel_count": "3",
        "parcel_weight_kg": "2.5",
        "parcel_length_cm": "40",
        "parcel_width_cm": "30",
        "parcel_height_cm": "15",
        "shipper_reference": "RET-1182",
    }.items():
        assert initial(view, block_id) == value, block_id
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert "initial_value" in inputs["parcel_count"]["element"]  # editable: one of several
    reasons = inputs["return_reason"]["element"]["options"]
    assert [o["text"]["text"] for o in reasons] == ["Damaged", "Wrong item", "Not wanted", "Other"]
    assert inputs["return_note"].get("optional") is True
    assert "Return of EC-1" in _dump(view["blocks"][0]) and "one of several" in _dump(view)


def test_a_return_of_a_consignment_the_webshop_made(harness: Harness) -> None:
    h = harness
    # Never heard of here: /ship return looks it up at Sorted PRO, and its card offers it.
    found = card(h, WITH_THE_CARRIER, command="return")
    assert buttons(found.blocks) == ["found_replace", "found_return"]
    assert h.store.find_by_reference(WITH_THE_CARRIER) is None
    opened = len(h.fake.opened_views())
    assert h.driver.click_ephemeral(found, "found_return").status_code == 200
    view = wait_for_modal(h.fake, opened)
    assert view["callback_id"] == "ship_return"

    # Taken over into a thread of its own, where the return lives; the form is filled in
    # from Sorted PRO's record (the webshop's customer as the sender).
    original = h.store.find_by_reference(WITH_THE_CARRIER)
    assert original is not None and original.found_source == "Api"
    assert original.step is Step.MANIFESTED and original.message_ts
    assert initial(view, "recipient_name") == "Sam Reid"
    assert initial(view, "recipient_email") == "sam@example.com"
    assert initial(view, "recipient_phone") == "07700 900123"
    assert initial(view, "address_postcode") == "PL1 2AA"
    assert initial(view, "shipper_reference") == f"RET-{WITH_THE_CARRIER}"
    (first_line,) = [m for m in h.fake.thread(CHANNEL, original.message_ts) if m.blocks]
    assert "return_label" in buttons(first_line.blocks)  # the thread's button, like ours
    before = _at_sandbox(h.sandbox, original.carrier_reference or "")

    response = h.driver.submit_view(view, typed_over(view, return_reason="Wrong item"))
    assert response.status_code == 200 and not response.content.strip(), response.text
    back = h.store.find_by_reference(f"RET-{WITH_THE_CARRIER}")
    assert back is not None and back.returns == original.id
    back = h.wait_step(back.id, Step.QUOTED)
    held = _at_sandbox(h.sandbox, back.carrier_reference or "")
    assert held["Direction"] == "Inbound"
    origin, destination = held["Addresses"]
    assert origin["Postcode"] == "PL1 2AA" and origin["Contact"]["Email"] == "sam@example.com"
    assert destination["ShippingLocationReference"] == SANDBOX_SHIPPING_LOCATION
    assert {q.service_code.removeprefix("MPD_") for q in back.quotes} <= RETURN_SERVICES
    assert h.fake.message(CHANNEL, back.message_ts or "").thread_ts == original.message_ts

    allocations = h.allocations_at_carrier()
    h.click_quote(back)
    back = h.wait_step(back.id, Step.UPLOADED)
    assert h.allocations_at_carrier() == allocations + 1
    files = [f for f in h.fake.files if f.filename == f"{back.carrier_reference}.pdf"]
    assert len(files) == 1 and files[0].thread_ts == original.message_ts
    shared = [m for m in h.fake.thread(CHANNEL, original.message_ts) if m.files]
    assert len(shared) == 1 and f"Return label made by <@{AGENT}>" in shared[0].text

    # Ours now: /ship return by its order number opens the form at once (not the return's).
    opened = len(h.fake.opened_views())
    assert not h.driver.command(f"return {WITH_THE_CARRIER}").content.strip()
    again = wait_for_modal(h.fake, opened)
    assert initial(again, "shipper_reference") == f"RET-{WITH_THE_CARRIER}-2"
    assert f"Already made for it: {back.reference}" in _dump(again["blocks"][0])
    # The original is untouched, at the carrier and here.
    assert _at_sandbox(h.sandbox, original.carrier_reference or "") == before
    kept = h.store.require(original.id)
    assert kept.step is Step.MANIFESTED and kept.request == original.request


def test_a_return_made_elsewhere_is_not_returned_again(harness: Harness) -> None:
    """An Inbound consignment made in Sorted PRO's web app: its card has no Return label, and
    taken over it is a return (its customer the sender), refused as one by /ship return."""
    client = client_at(harness.sandbox.url, "key", backoff=0.01)
    try:
        request = shipment_request("RET-OUTSIDE").model_copy(
            update={"direction": Direction.INBOUND}
        )
        reference = client.create_consignment(request, SANDBOX_SHIPPING_LOCATION)
        detail = client.get_consignment_detail(reference)
    finally:
        client.close()
    assert detail.direction is Direction.INBOUND and detail.request is not None
    assert detail.request.is_return and detail.request.recipient.postcode == "SW1A 2AA"
    found = card(harness, reference)
    assert "found_return" not in buttons(found.blocks)
    found = card(harness, reference, command="return")
    assert "found_return" not in buttons(found.blocks)
