"""Prefilled forms: presets, an address from a message, a postcode, ship again.

Every prefilled form must be one Slack accepts, and submitting it untouched must parse
exactly as the same values typed by hand would.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from blocks.customs_form import carry_customs, customs_modal
from blocks.form_prefill import (
    address_modal,
    address_notice,
    postcode_prefill,
    prefill_from_address,
    ship_again_draft,
    ship_again_modal,
)
from blocks.preset_update import apply_preset
from blocks.ship_form import shipment_modal
from bot.intake.address import AddressGuess, parse_address
from bot.intake.field_reader import ACTION
from bot.intake.forms import (
    ADDRESS_COUNTRY,
    ADDRESS_LINE1,
    ADDRESS_LINE2,
    ADDRESS_POSTCODE,
    PARCEL_PRESET,
    PARCEL_WEIGHT,
    RECIPIENT_NAME,
    SHIPMENT_BLOCK_IDS,
    parse_customs,
    parse_shipment,
)
from bot.intake.presets import ParcelPreset, parse_parcel_presets, preset_named
from bot.models import Money, ShipmentRequest
from tests.form_states import (
    EXAMPLE_SHIPMENT,
    element,
    example_state,
    input_blocks,
    state_from_modal_initials,
)
from tests.test_address import CASES
from tests.test_forms import (
    DOMESTIC,
    INTERNATIONAL,
    INTERNATIONAL_CUSTOMS,
    check_slack_accepts,
    parse_ok,
)

PRESETS = parse_parcel_presets("Small box=30x20x10@1.0;Mailer=35x25x3@0.3;Long tube=90x10x10@0.75")
SIZE_IDS = ("parcel_weight_kg", "parcel_length_cm", "parcel_width_cm", "parcel_height_cm")
# What the agent still types on top of an address: the parcel and what's in it.
PARCEL_FIELDS = (
    "parcel_count",
    *SIZE_IDS,
    "declared_value",
    "declared_currency",
    "contents",
    "shipper_reference",
)


def submitted(view: dict[str, Any], **typed: str | None) -> dict[str, Any]:
    """What Slack submits for `view` untouched, then with `typed` typed over it."""
    state = state_from_modal_initials(view)
    for block_id, value in typed.items():
        [action] = state[block_id].values()
        if "selected_option" in action:
            option = None if value is None else {"text": {"type": "plain_text", "text": value}}
            action["selected_option"] = option and {**option, "value": value}
        else:
            action["value"] = value
    return state


def slack_echo(view: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The `view` of a block_actions payload: what we sent plus Slack's own keys and state."""
    return {
        **copy.deepcopy(view),
        "id": "V0PRESET1",
        "team_id": "T0TEAM",
        "hash": "1700000000.abcdef",
        "state": {"values": state},
        "previous_view_id": None,
        "root_view_id": "V0PRESET1",
        "app_id": "A0APP",
        "external_id": "",
        "app_installed_team_id": "T0TEAM",
        "bot_id": "B0BOT",
        "clear_on_close": False,
        "notify_on_close": False,
        "submit_disabled": False,
    }


# --- presets -------------------------------------------------------------------------------


def test_no_presets_no_select() -> None:
    plain = shipment_modal("", shipper_reference="S")
    assert not any(block.get("block_id") == PARCEL_PRESET for block in plain["blocks"])
    assert plain == shipment_modal("", shipper_reference="S", presets=())


def test_preset_select_is_first_and_not_an_input() -> None:
    view = shipment_modal("", shipper_reference="S", presets=PRESETS)
    check_slack_accepts(view)
    first = view["blocks"][0]
    assert first["type"] == "section" and first["block_id"] == PARCEL_PRESET
    select = first["accessory"]
    assert select["type"] == "static_select" and select["action_id"] == PARCEL_PRESET
    assert [option["value"] for option in select["options"]] == [
        "Small box",
        "Mailer",
        "Long tube",
    ]
    assert select["options"][0]["text"]["text"] == "Small box · 30×20×10 cm, 1.0 kg"
    assert "initial_option" not in select
    assert tuple(block["block_id"] for block in input_blocks(view)) == SHIPMENT_BLOCK_IDS


def test_twenty_long_preset_names_fit_slack() -> None:
    presets = parse_parcel_presets(
        ";".join(f"{n:02d} " + "x" * 37 + "=100.5x50.5x48.5@29.999" for n in range(20))
    )
    view = shipment_modal("", shipper_reference="S", presets=presets)
    check_slack_accepts(view)
    for option in view["blocks"][0]["accessory"]["options"]:
        assert len(option["text"]["text"]) <= 75


def test_choosing_a_preset_fills_size_and_weight_and_keeps_the_rest() -> None:
    opened = shipment_modal('{"channel":"C1"}', shipper_reference="SHIP-1", presets=PRESETS)
    typed = submitted(
        opened,
        recipient_name="Rosa Customer",
        recipient_phone="+44 20 7946 0000",
        address_line1="10 Downing Street",
        address_town="London",
        address_postcode="sw1a 2aa",
        address_country="FR",
        parcel_count="3",
        parcel_weight_kg="7",  # typed before choosing: the preset replaces it
        declared_value="49.99",
        contents="Running shoes",
    )
    mailer = preset_named(PRESETS, "Mailer")
    assert mailer is not None
    typed[PARCEL_PRESET] = {
        PARCEL_PRESET: {"type": "static_select", "selected_option": {"value": "Mailer"}}
    }
    updated = apply_preset(slack_echo(opened, typed), mailer)

    check_slack_accepts(updated)
    for key in ("id", "hash", "state", "app_id", "team_id", "bot_id", "external_id"):
        assert key not in updated
    assert updated["callback_id"] == "ship_form"
    assert updated["private_metadata"] == '{"channel":"C1"}'
    assert updated["blocks"][0]["accessory"]["initial_option"]["value"] == "Mailer"
    assert [block.get("block_id") for block in updated["blocks"]] == [
        block.get("block_id") for block in opened["blocks"]
    ]
    sizes = {block_id: element(updated, block_id) for block_id in SIZE_IDS}
    assert {k: e["initial_value"] for k, e in sizes.items()} == {
        "parcel_weight_kg": "0.3",
        "parcel_length_cm": "35",
        "parcel_width_cm": "25",
        "parcel_height_cm": "3",
    }
    assert all(e["action_id"] != ACTION for e in sizes.values())  # Slack drops the typed 7
    for block in input_blocks(updated):
        if block["block_id"] not in SIZE_IDS:
            assert block["element"]["action_id"] == ACTION  # Slack keeps what was typed
    assert element(updated, "recipient_name")["initial_value"] == "Rosa Customer"
    assert element(updated, "parcel_count")["initial_value"] == "3"
    assert element(updated, "address_country")["initial_option"]["value"] == "FR"

    request = parse_ok(submitted(updated))
    assert request.parcel == mailer.parcel
    assert request.parcel_count == 3 and request.recipient.country == "FR"
    assert request.recipient.name == "Rosa Customer"


def test_a_second_preset_rekeys_again_and_stays_editable() -> None:
    opened = shipment_modal("", shipper_reference="SHIP-1", presets=PRESETS)
    first = apply_preset(slack_echo(opened, submitted(opened)), PRESETS[0])
    second = apply_preset(slack_echo(first, submitted(first)), PRESETS[2])
    check_slack_accepts(second)
    ids = [element(view, PARCEL_WEIGHT)["action_id"] for view in (opened, first, second)]
    assert len(set(ids)) == 3
    assert element(second, PARCEL_WEIGHT)["initial_value"] == "0.75"
    # The agent edits the filled-in weight; the edit wins, and errors keep their block ids.
    state = submitted(second, **{**dict.fromkeys(("recipient_name",), None)}, parcel_weight_kg="2")
    errors = parse_shipment(state)
    assert isinstance(errors, dict) and "recipient_name" in errors
    ok = parse_ok(
        submitted(
            second,
            **{k: v for k, (_, v) in EXAMPLE_SHIPMENT.items() if k not in SIZE_IDS},
            parcel_weight_kg="2",
        )
    )
    assert ok.parcel.weight_kg == Decimal("2") and ok.parcel.length_cm == Decimal("90")


def test_a_preset_after_the_agent_cleared_a_field_keeps_it_cleared() -> None:
    draft = shipment_modal("", shipper_reference="S", draft=DOMESTIC, presets=PRESETS)
    state = submitted(draft, order_number=None, address_country=None)
    updated = apply_preset(slack_echo(draft, state), PRESETS[0])
    assert "initial_value" not in element(updated, "order_number")
    assert "initial_option" not in element(updated, "address_country")


def test_apply_preset_works_on_a_form_with_a_notice() -> None:
    view = address_modal(
        "", shipper_reference="S", guess=parse_address("SW1A 2AA"), presets=PRESETS
    )
    assert view["blocks"][0]["type"] == "section" and view["blocks"][1]["block_id"] == PARCEL_PRESET
    updated = apply_preset(slack_echo(view, submitted(view)), PRESETS[1])
    assert updated["blocks"][0] == view["blocks"][0]
    assert element(updated, ADDRESS_POSTCODE)["initial_value"] == "SW1A 2AA"


# --- an address from a message -------------------------------------------------------------


@pytest.mark.parametrize(("text", "_expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_address_form_is_valid_and_parses_like_typed(text: str, _expected: object) -> None:
    guess = parse_address(text)
    view = address_modal('{"channel":"C1"}', shipper_reference="SHIP-9", guess=guess)
    check_slack_accepts(view)
    parcel = {
        k: v for k, (_, v) in EXAMPLE_SHIPMENT.items() if k in PARCEL_FIELDS[:-1]
    }  # all but the shipper reference, which the form fills in
    prefilled = parse_shipment(submitted(view, **parcel))
    initial = prefill_from_address(guess)
    typed = example_state(
        **{
            block_id: initial.get(block_id)
            for block_id in SHIPMENT_BLOCK_IDS
            if block_id not in PARCEL_FIELDS and block_id != "order_number"
        },
        order_number=None,
    )
    if ADDRESS_COUNTRY not in initial:
        typed["address_country"] = submitted(view)["address_country"]  # the form's default
    typed["shipper_reference"]["value"]["value"] = "SHIP-9"
    assert prefilled == parse_shipment(typed)


def test_a_full_address_needs_only_the_parcel() -> None:
    guess = parse_address(CASES[2][1])
    view = address_modal("", shipper_reference="SHIP-9", guess=guess)
    assert view["blocks"][0]["type"] == "header"  # nothing missing, no notice
    errors = parse_shipment(submitted(view))
    assert isinstance(errors, dict)
    assert set(errors) == {
        "parcel_weight_kg",
        "parcel_length_cm",
        "parcel_width_cm",
        "parcel_height_cm",
        "declared_value",
        "contents",
    }
    request = parse_ok(
        submitted(
            view,
            parcel_weight_kg="1.2",
            parcel_length_cm="30",
            parcel_width_cm="20",
            parcel_height_cm="10",
            declared_value="49.99",
            contents="Running shoes",
        )
    )
    assert request.recipient.model_dump(exclude_none=True) == {
        "name": "Mrs Jane Doe",
        "email": "jane.doe@example.com",
        "phone": "07700 900 123",
        "line1": "42 Acacia Avenue",
        "town": "Reading",
        "postcode": "RG1 1AA",
        "country": "GB",
    }


def test_what_could_not_be_read_is_said_on_top_and_left_empty() -> None:
    guess = AddressGuess(
        name="Émile Zola", line1="12 Rue de Rivoli", town="Paris", country="FR",
        phone="+33 1 23 45 67 89", missing=("postcode",),
    )  # fmt: skip
    view = address_modal("", shipper_reference="S", guess=guess)
    assert view["blocks"][0]["text"]["text"] == "⚠️ Couldn't find a postcode in the message."
    assert "initial_value" not in element(view, ADDRESS_POSTCODE)
    errors = parse_shipment(submitted(view))
    assert isinstance(errors, dict) and errors["address_postcode"] == "Enter the postcode."


@pytest.mark.parametrize(
    ("missing", "notice"),
    [
        ((), None),
        (("postcode",), "Couldn't find a postcode in the message."),
        (
            ("name", "phone number"),
            "Couldn't find a name or a phone number in the message.",
        ),
        (
            ("postcode", "country", "phone number"),
            "Couldn't find a postcode, the country or a phone number in the message.",
        ),
        (
            ("name", "street address", "town", "postcode", "country", "phone number"),
            "Couldn't find an address in the message: fill in the form.",
        ),
    ],
)
def test_address_notice(missing: tuple[str, ...], notice: str | None) -> None:
    assert address_notice(AddressGuess(line1="1 High St", missing=missing)) == notice


def test_values_too_long_for_the_form_are_left_out_and_said() -> None:
    guess = AddressGuess(
        name="Professor Bartholomew Featherstonehaugh-Smythe",
        line1="Flat 3",
        line2="The Old Rectory Cottages",
        line3="Little Snoring by the Sea",
        town="Fakenham",
        postcode="NR21 0AA",
        country="GB",
        phone="07700 900123",
    )
    initial = prefill_from_address(guess)
    assert RECIPIENT_NAME not in initial
    assert initial[ADDRESS_LINE1] == "Flat 3"
    assert initial[ADDRESS_LINE2] == "The Old Rectory Cottages"  # line 3 didn't fit with it
    notice = address_notice(guess)
    assert notice == ("Too long for the form, so left for you: the name and address line 3.")
    check_slack_accepts(address_modal("", shipper_reference="S", guess=guess))
    short = AddressGuess(line1="Flat 3", line2="Mill House", line3="Mill Lane", missing=())
    assert prefill_from_address(short)[ADDRESS_LINE2] == "Mill House, Mill Lane"
    assert address_notice(short) == "Check address line 2: two lines of the message share it."


def test_initial_values_a_field_cannot_take_are_left_out() -> None:
    view = shipment_modal(
        "",
        shipper_reference="S",
        initial={
            "recipient_name": "x" * 36,
            "parcel_weight_kg": "99",
            "parcel_count": "two",
            "address_country": "XX",
            "declared_currency": "JPY",
            "contents": "Books",
        },
    )
    check_slack_accepts(view)
    assert "initial_value" not in element(view, "recipient_name")
    assert "initial_value" not in element(view, "parcel_weight_kg")
    assert "initial_value" not in element(view, "parcel_count")
    assert "initial_option" not in element(view, "address_country")
    assert "initial_option" not in element(view, "declared_currency")
    assert element(view, "contents")["initial_value"] == "Books"


# --- /ship POSTCODE ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sw1a2aa", {"address_postcode": "SW1A 2AA", "address_country": "GB"}),
        (" SW1A  2AA ", {"address_postcode": "SW1A 2AA", "address_country": "GB"}),
        ("je2 3ab", {"address_postcode": "JE2 3AB", "address_country": "JE"}),
        ("GY1 1AA", {"address_postcode": "GY1 1AA", "address_country": "GG"}),
        ("im1 1aa", {"address_postcode": "IM1 1AA", "address_country": "IM"}),
        ("status", None),
        ("EC-000-05B-MMA", None),
        ("75001", None),
        ("", None),
        ("SW1A 2AA" * 10, None),
    ],
)
def test_postcode_prefill(text: str, expected: dict[str, str] | None) -> None:
    assert postcode_prefill(text) == expected


def test_postcode_form_parses_like_typed() -> None:
    initial = postcode_prefill("sw1a2aa")
    view = shipment_modal("", shipper_reference="SHIP-2026-11-25-0042", initial=initial)
    check_slack_accepts(view)
    assert element(view, "address_postcode")["initial_value"] == "SW1A 2AA"
    rest = {k: v for k, (_, v) in EXAMPLE_SHIPMENT.items() if k != "address_postcode"}
    assert parse_ok(submitted(view, **rest)) == parse_ok(example_state())


# --- ship again ----------------------------------------------------------------------------


@pytest.mark.parametrize("request_", [DOMESTIC, INTERNATIONAL], ids=["domestic", "international"])
def test_ship_again_copies_all_but_order_and_reference(request_: ShipmentRequest) -> None:
    old = request_.model_copy(update={"order_number": "1182"})
    view = ship_again_modal('{"again":7}', request=old, shipper_reference="SHIP-NEW-1")
    check_slack_accepts(view)
    assert view["blocks"][0]["text"]["text"].startswith(f"📦 Copied from {old.shipper_reference}")
    assert "initial_value" not in element(view, "order_number")
    again = parse_ok(submitted(view))
    assert again == old.model_copy(update={"order_number": None, "shipper_reference": "SHIP-NEW-1"})
    with_order = parse_ok(submitted(view, order_number="1190"))
    assert with_order.order_number == "1190"


def test_ship_again_keeps_customs_for_page_two() -> None:
    old = INTERNATIONAL.model_copy(update={"customs": INTERNATIONAL_CUSTOMS})
    assert ship_again_draft(old).customs == INTERNATIONAL_CUSTOMS
    view = ship_again_modal("", request=old, shipper_reference="SHIP-NEW-2", presets=PRESETS)
    assert "and customs" in view["blocks"][0]["text"]["text"]
    page_one = parse_ok(submitted(view))
    assert page_one.customs is None  # page 1 never carries customs: page 2 is prefilled
    shipment = carry_customs(page_one, old.customs)
    page_two = customs_modal("", shipment=shipment)
    check_slack_accepts(page_two)
    assert parse_customs(state_from_modal_initials(page_two), page_one) == INTERNATIONAL_CUSTOMS


def test_carried_customs_fit_a_changed_declared_value() -> None:
    old = INTERNATIONAL_CUSTOMS  # 100.50 USD of goods
    cheaper = INTERNATIONAL.model_copy(
        update={"value": Money(amount=Decimal("80"), currency="USD")}
    )
    assert carry_customs(cheaper, old).customs.item_value == Money(  # type: ignore[union-attr]
        amount=Decimal("80"), currency="USD"
    )
    euros = INTERNATIONAL.model_copy(update={"value": Money(amount=Decimal("500"), currency="EUR")})
    carried = carry_customs(euros, old).customs
    assert carried is not None and carried.item_value == Money(
        amount=Decimal("500"), currency="EUR"
    )
    assert carried.hs_code == old.hs_code and carried.reason == old.reason
    assert carry_customs(INTERNATIONAL, None) == INTERNATIONAL
    for shipment in (cheaper, euros):
        check_slack_accepts(customs_modal("", shipment=carry_customs(shipment, old)))


def test_prefilled_views_stay_small() -> None:
    view = ship_again_modal(
        json.dumps({"channel": "C1"}), request=INTERNATIONAL, shipper_reference="S", presets=PRESETS
    )
    assert len(json.dumps(view).encode()) < 20_000


def test_presets_round_trip_their_option_value() -> None:
    view = shipment_modal("", shipper_reference="S", presets=PRESETS)
    for option in view["blocks"][0]["accessory"]["options"]:
        preset = preset_named(PRESETS, option["value"])
        assert isinstance(preset, ParcelPreset)
