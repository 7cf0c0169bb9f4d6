"""The `/ship` modal: views Slack will accept, and a parser that trusts nothing it is sent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import Option, OptionGroup
from slack_sdk.models.views import View

from blocks.countries import COMMON_COUNTRY_CODES, COUNTRIES, COUNTRY_NAMES
from blocks.customs_form import SHIP_CUSTOMS, customs_modal
from blocks.form_fields import country_options
from blocks.ship_form import SHIP_FORM, shipment_modal
from bot.intake.field_reader import ACTION, FieldErrors, is_form_action
from bot.intake.forms import (
    CUSTOMS_BLOCK_IDS,
    SHIPMENT_BLOCK_IDS,
    normalise_uk_postcode,
    parse_customs,
    parse_shipment,
)
from bot.models import (
    Customs,
    ExportReason,
    Money,
    Recipient,
    ShipmentRequest,
)
from tests.factories import parcel
from tests.form_states import (
    EXAMPLE_CUSTOMS,
    EXAMPLE_SHIPMENT,
    element,
    example_customs_state,
    example_state,
    input_blocks,
    state_from_modal_initials,
)

DOMESTIC = ShipmentRequest(
    shipper_reference="SHIP-2026-11-25-0042",
    order_number="1182",
    recipient=Recipient(
        name="Rosa Customer",
        email="rosa@example.com",
        phone="+44 20 7946 0000",
        line1="10 Downing Street",
        town="London",
        postcode="SW1A 2AA",
        country="GB",
    ),
    parcel=parcel("1.2", "30", "20", "10"),
    parcel_count=2,
    value=Money(amount=Decimal("49.99"), currency="GBP"),
    contents="Running shoes",
)

INTERNATIONAL = ShipmentRequest(
    shipper_reference="SHIP/2026.11_25-0043",
    order_number=None,
    recipient=Recipient(
        name="Émile Zola",
        email=None,
        phone="(212) 555-0100",
        company="Zola & Fils",
        line1="350 Fifth Avenue",
        line2="Floor 42",
        town="New York",
        postcode="10118-0110",
        country="US",
    ),
    parcel=parcel("0.75", "35.5", "25", "12.5"),
    parcel_count=1,
    value=Money(amount=Decimal("120.00"), currency="USD"),
    contents="Leather boots",
)

INTERNATIONAL_CUSTOMS = Customs(
    contents="Men's leather boots",
    hs_code="6403990000",
    origin_country="IT",
    item_value=Money(amount=Decimal("100.50"), currency="USD"),
    reason=ExportReason.GIFT,
)


# --- helpers -------------------------------------------------------------------------------


def select_options(select: dict[str, Any]) -> list[dict[str, Any]]:
    if "options" in select:
        return list(select["options"])
    return [option for group in select["option_groups"] for option in group["options"]]


def check_slack_accepts(view: dict[str, Any]) -> None:
    """slack_sdk's models, plus the limits they don't reach (options inside selects)."""
    assert View(**view).to_dict() == view  # validates, and nothing was unknown or dropped
    assert 1 <= len(view["blocks"]) <= 100
    for key in ("title", "submit", "close"):
        assert 1 <= len(view[key]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(json.dumps(view).encode()) < 250_000  # views.open: view_too_large
    for block in input_blocks(view):
        el = block["element"]
        assert is_form_action(el["action_id"])  # ACTION, or "value.N" after a preset
        if el["type"] == "number_input":
            for key in ("min_value", "max_value", "initial_value"):
                if key in el:
                    assert isinstance(el[key], str)
                    assert Decimal(el["min_value"]) <= Decimal(el[key]) <= Decimal(el["max_value"])
        if el["type"] == "plain_text_input" and "initial_value" in el:
            assert len(el["initial_value"]) <= el["max_length"]
        if el["type"] == "static_select":
            for group in el.get("option_groups", []):
                OptionGroup(**group).to_dict()
                assert 1 <= len(group["options"]) <= 100
            assert len(el.get("options", [])) <= 100
            options = select_options(el)
            for option in options:
                Option(**option).to_dict()
                assert len(option["text"]["text"]) <= 75
            values = [option["value"] for option in options]
            assert len(values) == len(set(values)), "a value listed twice is ambiguous"
            if "initial_option" in el:
                assert el["initial_option"] in options


def parse_ok(state: dict[str, Any]) -> ShipmentRequest:
    result = parse_shipment(state)
    assert isinstance(result, ShipmentRequest), result
    return result


def errors_of(state: dict[str, Any]) -> FieldErrors:
    result = parse_shipment(state)
    assert isinstance(result, dict), result
    return result


def customs_errors_of(state: dict[str, Any], shipment: ShipmentRequest) -> FieldErrors:
    result = parse_customs(state, shipment)
    assert isinstance(result, dict), result
    return result


# --- the views -----------------------------------------------------------------------------


VIEWS = {
    "blank form": lambda: shipment_modal('{"c":"C1"}', shipper_reference="SHIP-1"),
    "domestic draft": lambda: shipment_modal("", shipper_reference="SHIP-2", draft=DOMESTIC),
    "international draft": lambda: shipment_modal(
        "x", shipper_reference="SHIP-3", draft=INTERNATIONAL
    ),
    "customs, fresh": lambda: customs_modal("m" * 3000, shipment=INTERNATIONAL),
    "customs, filled": lambda: customs_modal(
        "m", shipment=INTERNATIONAL.model_copy(update={"customs": INTERNATIONAL_CUSTOMS})
    ),
}


@pytest.mark.parametrize("name", VIEWS)
def test_views_pass_slack_sdk_validation_and_limits(name: str) -> None:
    check_slack_accepts(VIEWS[name]())


def test_the_validation_helper_catches_what_slack_would_refuse() -> None:
    view = shipment_modal("", shipper_reference="SHIP-1")
    element(view, "declared_currency")["options"] *= 40  # > 100 options
    with pytest.raises(Exception, match="100"):
        check_slack_accepts(view)
    view = shipment_modal("", shipper_reference="SHIP-1")
    element(view, "recipient_name")["type"] = "plain_txt_input"
    with pytest.raises(AssertionError):
        check_slack_accepts(view)


def test_page_one_shape() -> None:
    view = shipment_modal('{"channel":"C1"}', shipper_reference="SHIP-9")
    assert view["callback_id"] == SHIP_FORM == "ship_form"
    assert view["title"]["text"] == "Ship a parcel"
    assert view["submit"]["text"] == "Get quotes"
    assert view["close"]["text"] == "Cancel"
    assert view["private_metadata"] == '{"channel":"C1"}'
    assert tuple(block["block_id"] for block in input_blocks(view)) == SHIPMENT_BLOCK_IDS
    optional = {block["block_id"] for block in input_blocks(view) if block["optional"]}
    assert optional == {
        "recipient_email",
        "recipient_company",
        "address_line2",
        "address_postcode",
        "order_number",
    }
    assert element(view, "shipper_reference")["initial_value"] == "SHIP-9"
    assert element(view, "recipient_email")["type"] == "email_text_input"
    count = element(view, "parcel_count")
    assert count["type"] == "number_input"
    assert count["is_decimal_allowed"] is False
    assert (count["min_value"], count["max_value"], count["initial_value"]) == ("1", "20", "1")
    weight = element(view, "parcel_weight_kg")
    assert weight["is_decimal_allowed"] is True
    assert (weight["min_value"], weight["max_value"]) == ("0.01", "30")
    for side in ("parcel_length_cm", "parcel_width_cm", "parcel_height_cm"):
        assert (element(view, side)["min_value"], element(view, side)["max_value"]) == ("1", "200")
    value = element(view, "declared_value")
    assert (value["min_value"], value["max_value"]) == ("0.01", "50000")
    currency = element(view, "declared_currency")
    assert [option["value"] for option in currency["options"]] == ["GBP", "EUR", "USD"]
    assert currency["initial_option"]["value"] == "GBP"
    assert element(view, "recipient_name")["max_length"] == 35
    assert element(view, "address_town")["max_length"] == 30


def test_country_select_is_external_and_starts_on_the_uk() -> None:
    select = element(shipment_modal("", shipper_reference="S"), "address_country")
    assert select["type"] == "external_select" and select["min_query_length"] == 0
    assert "option_groups" not in select and "options" not in select
    assert select["initial_option"] == {
        "text": {"type": "plain_text", "text": "United Kingdom (GB)"},
        "value": "GB",
    }
    origin = element(customs_modal("{}", shipment=INTERNATIONAL), "customs_origin_country")
    assert origin["type"] == "external_select" and origin["initial_option"]["value"] == "GB"


def test_country_options_common_first_within_slack_limits() -> None:
    groups = country_options("")["option_groups"]
    assert groups[0]["label"]["text"] == "Common"
    common = [option["value"] for option in groups[0]["options"]]
    assert common[:10] == ["GB", "IE", "FR", "DE", "NL", "ES", "IT", "US", "CA", "AU"]
    labels = [group["label"]["text"] for group in groups[1:]]
    assert labels == sorted(labels) and all(len(label) == 1 for label in labels)
    values = [option["value"] for group in groups for option in group["options"]]
    assert len(values) == len(set(values)) == 100
    for group in groups:
        OptionGroup(**group).to_dict()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("fr", "FR"), ("  united  KINGDOM ", "GB"), ("je", "JE"), ("zimb", "ZW"), ("åland", "AX")],
)
def test_country_options_follow_what_is_typed(query: str, expected: str) -> None:
    values = [
        option["value"]
        for group in country_options(query)["option_groups"]
        for option in group["options"]
    ]
    assert expected in values
    assert len(values) == len(set(values)) <= 100


def test_every_country_is_found_by_its_code() -> None:
    for code in COUNTRY_NAMES:
        groups = country_options(code.lower())["option_groups"]
        assert code in [option["value"] for group in groups for option in group["options"]]
    assert country_options("no such place")["option_groups"] == []


def test_country_data() -> None:
    codes = [code for code, _ in COUNTRIES]
    assert len(codes) == len(set(codes)) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in codes)
    assert {"GB", "US", "FR", "JE", "XK"} - set(codes) == {"XK"}  # XK is not ISO-assigned
    assert set(COMMON_COUNTRY_CODES) <= set(codes)
    assert COUNTRY_NAMES["GB"] == "United Kingdom"


def test_page_two_shape_prefills_from_page_one() -> None:
    view = customs_modal('{"step":2}', shipment=INTERNATIONAL)
    assert view["callback_id"] == SHIP_CUSTOMS == "ship_customs"
    assert view["submit"]["text"] == "Get quotes"
    assert view["private_metadata"] == '{"step":2}'
    assert tuple(block["block_id"] for block in input_blocks(view)) == CUSTOMS_BLOCK_IDS
    assert not any(block["optional"] for block in input_blocks(view))
    assert element(view, "customs_contents")["initial_value"] == "Leather boots"
    assert element(view, "customs_origin_country")["initial_option"]["value"] == "GB"
    item_value = element(view, "customs_item_value")
    assert (item_value["initial_value"], item_value["max_value"]) == ("120.00", "120.00")
    reasons = element(view, "customs_reason")
    assert [option["value"] for option in reasons["options"]] == [
        "Sale",
        "Gift",
        "Sample",
        "Return",
        "Documents",
    ]
    assert "initial_option" not in reasons  # a legal declaration: the agent picks it
    assert "United States (US)" in json.dumps(view["blocks"][0], ensure_ascii=False)


@pytest.mark.parametrize("build", ["form", "customs"])
def test_private_metadata_over_3000_chars_is_refused(build: str) -> None:
    with pytest.raises(ValueError, match="3000"):
        if build == "form":
            shipment_modal("x" * 3001, shipper_reference="S")
        else:
            customs_modal("x" * 3001, shipment=INTERNATIONAL)


def test_example_states_match_the_modal() -> None:
    """Other tests build submissions with these; they must look like the real view's."""
    for view, fields in (
        (shipment_modal("", shipper_reference="S"), EXAMPLE_SHIPMENT),
        (customs_modal("", shipment=INTERNATIONAL), EXAMPLE_CUSTOMS),
    ):
        shapes = {block["block_id"]: block["element"]["type"] for block in input_blocks(view)}
        assert shapes == {block_id: kind for block_id, (kind, _) in fields.items()}
    with pytest.raises(KeyError):
        example_state(no_such_block="x")


# --- parsing good submissions --------------------------------------------------------------


def test_good_domestic_submission() -> None:
    assert parse_ok(example_state()) == DOMESTIC
    request = parse_ok(example_state())
    assert isinstance(request.parcel.weight_kg, Decimal)
    assert request.recipient.postcode == "SW1A 2AA"
    assert request.customs is None
    assert not request.is_international
    assert request.total_weight_kg == Decimal("2.4")


def test_good_international_submission_and_customs() -> None:
    state = example_state(
        recipient_name="  Émile   Zola ",
        recipient_email=None,
        recipient_phone="(212) 555-0100",
        recipient_company="Zola & Fils",
        address_line1="350 Fifth Avenue",
        address_line2="Floor 42",
        address_town="New York",
        address_postcode="10118-0110",
        address_country="US",
        parcel_count="1",
        parcel_weight_kg="0.75",
        parcel_length_cm="35.5",
        parcel_width_cm="25",
        parcel_height_cm="12.5",
        declared_value="120.00",
        declared_currency="USD",
        contents="Leather boots",
        order_number=None,
        shipper_reference="SHIP/2026.11_25-0043",
    )
    shipment = parse_ok(state)
    assert shipment == INTERNATIONAL
    assert shipment.is_international
    customs = parse_customs(
        example_customs_state(
            customs_contents="Men's leather boots",
            customs_hs_code=" 6403.99 00.00 ",
            customs_origin_country="IT",
            customs_item_value="100.50",
            customs_reason="Gift",
        ),
        shipment,
    )
    assert customs == INTERNATIONAL_CUSTOMS
    assert isinstance(customs, Customs)
    assert customs.item_value == Money(amount=Decimal("100.50"), currency="USD")


def test_example_customs_state_parses() -> None:
    customs = parse_customs(example_customs_state(), DOMESTIC)
    assert customs == Customs(
        contents="Running shoes",
        hs_code="640411",
        origin_country="GB",
        item_value=Money(amount=Decimal("49.99"), currency="GBP"),
        reason=ExportReason.SALE,
    )


def test_empty_optional_fields_become_none() -> None:
    for empty in (None, "", "   "):
        request = parse_ok(
            example_state(
                recipient_email=empty,
                recipient_company=empty,
                address_line2=empty,
                order_number=empty,
            )
        )
        recipient = request.recipient
        assert (recipient.email, recipient.company, recipient.line2) == (None, None, None)
        assert request.order_number is None


def test_postcode_may_be_empty_where_addresses_have_none() -> None:
    request = parse_ok(example_state(address_country="HK", address_postcode=None))
    assert request.recipient.postcode == ""
    assert errors_of(example_state(address_country="FR", address_postcode=None)) == {
        "address_postcode": "Enter the postcode."
    }


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("sw1a2aa", "SW1A 2AA"),
        ("  sw1a   2aa ", "SW1A 2AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("w1a0ax", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("b338th", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("gir 0aa", "GIR 0AA"),
        ("GIR0AA", "GIR 0AA"),
    ],
)
def test_uk_postcodes_are_normalised(typed: str, normalised: str) -> None:
    assert normalise_uk_postcode(typed) == normalised
    assert parse_ok(example_state(address_postcode=typed)).recipient.postcode == normalised


def test_uk_format_applies_to_crown_dependencies() -> None:
    request = parse_ok(example_state(address_country="JE", address_postcode="je2 3ab"))
    assert request.recipient.postcode == "JE2 3AB"
    assert "address_postcode" in errors_of(
        example_state(address_country="JE", address_postcode="75008")
    )


@pytest.mark.parametrize(
    ("country", "typed", "normalised"),
    [
        ("FR", "75008", "75008"),
        ("US", "10001-1234", "10001-1234"),
        ("CA", "k1a 0b1", "K1A 0B1"),
        ("NL", "1012  ab", "1012 AB"),
        ("IE", "D02 X285", "D02 X285"),
    ],
)
def test_other_postcodes_skip_the_uk_check(country: str, typed: str, normalised: str) -> None:
    request = parse_ok(example_state(address_country=country, address_postcode=typed))
    assert request.recipient.postcode == normalised


# --- every bad field -----------------------------------------------------------------------

JUNK = "\x00\x01\xfe\x7f"
LONG = "A" * 5000

BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    # (overrides, block id with the error, words the message must contain)
    ({"recipient_name": None}, "recipient_name", "Enter the recipient's name."),
    ({"recipient_name": "   "}, "recipient_name", "Enter the recipient's name."),
    ({"recipient_name": "A" * 36}, "recipient_name", "Name must be 35 characters or fewer."),
    ({"recipient_name": LONG}, "recipient_name", "35 characters or fewer"),
    ({"recipient_name": f"Rosa{JUNK}"}, "recipient_name", "control characters"),
    ({"recipient_name": "Rosa\u202eremoc"}, "recipient_name", "control characters"),
    ({"recipient_name": "Rosa\u200b"}, "recipient_name", "control characters"),
    ({"recipient_email": "rosa"}, "recipient_email", "like name@example.com"),
    ({"recipient_email": "rosa@example"}, "recipient_email", "like name@example.com"),
    ({"recipient_email": "ro sa@example.com"}, "recipient_email", "like name@example.com"),
    ({"recipient_email": f"{LONG}@example.com"}, "recipient_email", "characters or fewer"),
    ({"recipient_phone": None}, "recipient_phone", "Enter the recipient's phone number."),
    ({"recipient_phone": "12345"}, "recipient_phone", "6 to 20 digits"),
    ({"recipient_phone": "1" * 21}, "recipient_phone", "6 to 20 digits"),
    ({"recipient_phone": "020 7946 ext 1"}, "recipient_phone", "+ ( ) and -"),
    ({"recipient_phone": "020+7946 0000"}, "recipient_phone", "+ ( ) and -"),
    ({"recipient_company": "C" * 36}, "recipient_company", "35 characters or fewer"),
    ({"address_line1": None}, "address_line1", "Enter the first address line."),
    ({"address_line1": LONG}, "address_line1", "35 characters or fewer"),
    ({"address_line1": "10 Downing\x1bStreet"}, "address_line1", "control characters"),
    ({"address_line2": "L" * 36}, "address_line2", "35 characters or fewer"),
    ({"address_town": None}, "address_town", "Enter the town or city."),
    ({"address_town": "T" * 31}, "address_town", "Town must be 30 characters or fewer."),
    ({"address_postcode": None}, "address_postcode", "Enter the postcode."),
    ({"address_postcode": "SW1A 2A"}, "address_postcode", "Enter a UK postcode like SW1A 2AA."),
    ({"address_postcode": "QW1 2AA"}, "address_postcode", "UK postcode"),
    ({"address_postcode": "SW1A 2CI"}, "address_postcode", "UK postcode"),
    ({"address_postcode": "75008"}, "address_postcode", "UK postcode"),
    ({"address_postcode": LONG}, "address_postcode", "UK postcode"),
    ({"address_postcode": "SW1A\x002AA"}, "address_postcode", "control characters"),
    (
        {"address_country": "FR", "address_postcode": "75008!"},
        "address_postcode",
        "letters, digits, spaces or hyphens",
    ),
    ({"address_country": "FR", "address_postcode": LONG}, "address_postcode", "up to 10"),
    ({"address_country": None}, "address_country", "Choose the country"),
    ({"address_country": "XX"}, "address_country", "Choose the country"),
    ({"address_country": "gb"}, "address_country", "Choose the country"),
    ({"parcel_count": None}, "parcel_count", "whole number from 1 to 20"),
    ({"parcel_count": "0"}, "parcel_count", "whole number from 1 to 20"),
    ({"parcel_count": "21"}, "parcel_count", "whole number from 1 to 20"),
    ({"parcel_count": "1.5"}, "parcel_count", "whole number from 1 to 20"),
    ({"parcel_count": "two"}, "parcel_count", "whole number from 1 to 20"),
    ({"parcel_weight_kg": None}, "parcel_weight_kg", "Enter the weight of one parcel in kg"),
    ({"parcel_weight_kg": "heavy"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "1,5"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "NaN"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "Infinity"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "1e1"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "٣"}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "9" * 5000}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": JUNK}, "parcel_weight_kg", "Weight must be a number of kg"),
    ({"parcel_weight_kg": "0"}, "parcel_weight_kg", "Weight must be between 0.01 and 30 kg."),
    ({"parcel_weight_kg": "-2"}, "parcel_weight_kg", "Weight must be between 0.01 and 30 kg."),
    ({"parcel_weight_kg": "31"}, "parcel_weight_kg", "Weight must be between 0.01 and 30 kg."),
    ({"parcel_weight_kg": "30.001"}, "parcel_weight_kg", "between 0.01 and 30 kg"),
    ({"parcel_weight_kg": "1.0001"}, "parcel_weight_kg", "at most 3 decimal places"),
    ({"parcel_length_cm": None}, "parcel_length_cm", "Enter the length in cm"),
    ({"parcel_length_cm": "500"}, "parcel_length_cm", "Length must be between 1 and 200 cm."),
    ({"parcel_width_cm": "0"}, "parcel_width_cm", "Width must be between 1 and 200 cm."),
    ({"parcel_height_cm": "0.5"}, "parcel_height_cm", "Height must be between 1 and 200 cm."),
    ({"parcel_height_cm": "tall"}, "parcel_height_cm", "Height must be a number of cm"),
    (
        {"parcel_length_cm": "100", "parcel_width_cm": "150", "parcel_height_cm": "40"},
        "parcel_width_cm",  # the longest side carries it
        "at most 300 cm (this one is 430 cm)",
    ),
    ({"declared_value": None}, "declared_value", "Enter the value of the contents"),
    ({"declared_value": "-5"}, "declared_value", "more than 0 and at most 50,000"),
    ({"declared_value": "0"}, "declared_value", "more than 0 and at most 50,000"),
    ({"declared_value": "50000.01"}, "declared_value", "more than 0 and at most 50,000"),
    ({"declared_value": "12.345"}, "declared_value", "at most 2 decimal places"),
    ({"declared_value": "£12"}, "declared_value", "must be an amount, like 49.99"),
    ({"declared_currency": None}, "declared_currency", "Choose a currency: GBP, EUR, USD."),
    ({"declared_currency": "JPY"}, "declared_currency", "Choose a currency"),
    ({"contents": None}, "contents", "Say what's inside, like Running shoes."),
    ({"contents": LONG}, "contents", "Contents must be 50 characters or fewer."),
    ({"contents": JUNK}, "contents", "control characters"),
    ({"order_number": "O" * 31}, "order_number", "Order number must be 30 characters or fewer."),
    ({"order_number": f"11{JUNK}"}, "order_number", "control characters"),
    ({"shipper_reference": None}, "shipper_reference", "Enter a shipper reference"),
    ({"shipper_reference": "SHIP 1"}, "shipper_reference", "letters, digits or - _ / ."),
    ({"shipper_reference": "R" * 41}, "shipper_reference", "1 to 40"),
    ({"shipper_reference": "SHIP#1"}, "shipper_reference", "letters, digits or - _ / ."),
    ({"shipper_reference": "SHÏP-1"}, "shipper_reference", "letters, digits or - _ / ."),
    # Crafted payloads: not strings, not mappings, no selected option.
    ({"recipient_name": {"type": "plain_text_input", "value": 42}}, "recipient_name", "control"),
    ({"parcel_weight_kg": {"type": "number_input", "value": 2}}, "parcel_weight_kg", "a number"),
    ({"parcel_weight_kg": {"type": "number_input"}}, "parcel_weight_kg", "Enter the weight"),
    ({"address_country": {"type": "static_select"}}, "address_country", "Choose the country"),
    (
        {"address_country": {"type": "static_select", "selected_option": "GB"}},
        "address_country",
        "Choose the country",
    ),
    (
        {"address_country": {"selected_option": {"value": ["GB"]}}},
        "address_country",
        "Choose the country",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "block_id", "words"),
    BAD_FIELDS,
    ids=[f"{block}:{str(over)[:40]}" for over, block, _ in BAD_FIELDS],
)
def test_bad_field_gets_a_helpful_error_on_its_own_block(
    overrides: dict[str, Any], block_id: str, words: str
) -> None:
    errors = errors_of(example_state(**overrides))
    assert list(errors) == [block_id], errors
    assert words in errors[block_id]
    assert errors[block_id].endswith(".")
    assert len(errors[block_id]) < 150


def test_all_errors_come_back_at_once_on_input_block_ids_only() -> None:
    errors = errors_of({})
    required = set(SHIPMENT_BLOCK_IDS) - {
        "recipient_email",
        "recipient_company",
        "address_line2",
        "order_number",
    }
    assert set(errors) == required
    assert set(errors) <= set(SHIPMENT_BLOCK_IDS)


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"recipient_name": None},
        {"recipient_name": "x"},
        {"recipient_name": {"value": "x"}},
        {"recipient_name": {ACTION: None}},
        {"recipient_name": {ACTION: ["x"]}},
    ],
)
def test_malformed_state_never_raises(values: Any) -> None:
    assert "recipient_name" in errors_of(values)
    assert "customs_hs_code" in customs_errors_of(values, DOMESTIC)


def test_non_mapping_state_never_raises() -> None:
    assert "recipient_name" in errors_of(None)  # type: ignore[arg-type]
    assert "customs_reason" in customs_errors_of("junk", DOMESTIC)  # type: ignore[arg-type]


BAD_CUSTOMS: list[tuple[dict[str, Any], str, str]] = [
    ({"customs_contents": None}, "customs_contents", "Describe the goods for customs"),
    ({"customs_contents": LONG}, "customs_contents", "50 characters or fewer"),
    ({"customs_contents": f"Shoes{JUNK}"}, "customs_contents", "control characters"),
    ({"customs_hs_code": None}, "customs_hs_code", "6 to 10 digits, like 6404.11"),
    ({"customs_hs_code": "6404"}, "customs_hs_code", "6 to 10 digits"),
    ({"customs_hs_code": "64041100001"}, "customs_hs_code", "6 to 10 digits"),
    ({"customs_hs_code": "6404-11"}, "customs_hs_code", "6 to 10 digits"),
    ({"customs_hs_code": "shoes!"}, "customs_hs_code", "trade-tariff.service.gov.uk"),
    ({"customs_hs_code": "٦٤٠٤١١"}, "customs_hs_code", "6 to 10 digits"),
    ({"customs_hs_code": LONG}, "customs_hs_code", "6 to 10 digits"),
    ({"customs_origin_country": None}, "customs_origin_country", "country the goods were made in"),
    ({"customs_origin_country": "ZZ"}, "customs_origin_country", "country the goods were made in"),
    ({"customs_item_value": None}, "customs_item_value", "Enter the value of the goods"),
    ({"customs_item_value": "lots"}, "customs_item_value", "must be an amount"),
    ({"customs_item_value": "-1"}, "customs_item_value", "more than 0"),
    ({"customs_item_value": "0"}, "customs_item_value", "more than 0"),
    (
        {"customs_item_value": "50.00"},
        "customs_item_value",
        "not more than the declared value (£49.99)",
    ),
    ({"customs_item_value": "1.001"}, "customs_item_value", "at most 2 decimal places"),
    ({"customs_reason": None}, "customs_reason", "Choose why the goods are being sent."),
    ({"customs_reason": "Bribe"}, "customs_reason", "Choose why"),
    ({"customs_reason": "sale"}, "customs_reason", "Choose why"),
]


@pytest.mark.parametrize(
    ("overrides", "block_id", "words"),
    BAD_CUSTOMS,
    ids=[f"{block}:{str(over)[:40]}" for over, block, _ in BAD_CUSTOMS],
)
def test_bad_customs_field_gets_a_helpful_error_on_its_own_block(
    overrides: dict[str, Any], block_id: str, words: str
) -> None:
    errors = customs_errors_of(example_customs_state(**overrides), DOMESTIC)
    assert list(errors) == [block_id], errors
    assert words.lower() in errors[block_id].lower()
    assert errors[block_id].endswith(".")


def test_item_value_cap_uses_the_shipment_currency() -> None:
    errors = customs_errors_of(example_customs_state(customs_item_value="130"), INTERNATIONAL)
    assert errors == {
        "customs_item_value": "Item value must be more than 0 and not more than the declared "
        "value ($120.00)."
    }
    euros = INTERNATIONAL.model_copy(
        update={"value": Money(amount=Decimal("1500"), currency="EUR")}
    )
    customs = parse_customs(example_customs_state(customs_item_value="1500"), euros)
    assert isinstance(customs, Customs)
    assert customs.item_value == Money(amount=Decimal("1500"), currency="EUR")


# --- drafts round-trip ---------------------------------------------------------------------


@pytest.mark.parametrize("draft", [DOMESTIC, INTERNATIONAL], ids=["domestic", "international"])
def test_draft_round_trips_through_the_form(draft: ShipmentRequest) -> None:
    view = shipment_modal("", shipper_reference=draft.shipper_reference, draft=draft)
    assert parse_ok(state_from_modal_initials(view)) == draft


def test_draft_keeps_the_new_shipper_reference() -> None:
    view = shipment_modal("", shipper_reference="SHIP-RETRY-2", draft=DOMESTIC)
    request = parse_ok(state_from_modal_initials(view))
    assert request == DOMESTIC.model_copy(update={"shipper_reference": "SHIP-RETRY-2"})


def test_customs_round_trips_through_page_two() -> None:
    shipment = INTERNATIONAL.model_copy(update={"customs": INTERNATIONAL_CUSTOMS})
    view = customs_modal("", shipment=shipment)
    assert parse_customs(state_from_modal_initials(view), shipment) == INTERNATIONAL_CUSTOMS


def test_untouched_page_two_needs_only_hs_code_and_reason() -> None:
    view = customs_modal("", shipment=INTERNATIONAL)
    errors = customs_errors_of(state_from_modal_initials(view), INTERNATIONAL)
    assert set(errors) == {"customs_hs_code", "customs_reason"}


def test_blank_form_untouched_asks_for_the_required_fields() -> None:
    view = shipment_modal("", shipper_reference="SHIP-1")
    errors = errors_of(state_from_modal_initials(view))
    assert set(errors) == {
        "recipient_name",
        "recipient_phone",
        "address_line1",
        "address_town",
        "address_postcode",
        "parcel_weight_kg",
        "parcel_length_cm",
        "parcel_width_cm",
        "parcel_height_cm",
        "declared_value",
        "contents",
    }


# --- emoji are text; invisible characters are not ------------------------------------------

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈 (VS16 before the joiner)
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize(
    "field, typed",
    [
        ("recipient_name", f"Rosa {FAMILY}"),
        ("recipient_name", f"{RAINBOW_FLAG} Sam"),
        ("recipient_name", "Ana \U0001f44d\U0001f3fd"),  # skin-tone modifier
        ("recipient_name", "Dev \U0001f469\U0001f3fd\u200d\U0001f4bb"),  # 👩🏽‍💻
        ("recipient_name", "Bo \u2764\ufe0f"),  # variation selector
        ("recipient_name", f"Jo {SCOTLAND}"),  # tag sequence
        ("recipient_company", f"{FAMILY} Toys"),
        ("address_line2", "Flat 1\ufe0f\u20e3"),  # keycap 1️⃣
    ],
)
def test_emoji_sequences_are_valid_text(field: str, typed: str) -> None:
    request = parse_ok(example_state(**{field: typed}))
    values = request.model_dump(mode="json")
    assert typed in json.dumps(values, ensure_ascii=False)


@pytest.mark.parametrize(
    "typed",
    [
        "\u200dRosa",
        "Rosa\u200c",  # a non-joiner at the end of the field
        "\u200c\u0645\u06cc",  # ... or at its start
        "Rosa \u200cLane",  # beside a space it joins nothing
        "Flat 1\u200c2",  # between digits
        "\u0645\u06cc\u200b\u062e",  # other zero-width characters stay refused
        f"Rosa {FAMILY}\u200d",  # a trailing joiner joins nothing
        "Rosa\u200b",  # zero-width space
        "Rosa\u2066x\u2069",  # bidi isolates
        "Rosa \U0001f3f4\U000e0067\U000e0062",  # tag characters without the closing tag
        "Rosa \U000e0067\U000e007f",  # tag characters with no flag
        "Rosa\u00ad",  # soft hyphen
    ],
)
def test_invisible_characters_are_still_refused(typed: str) -> None:
    errors = errors_of(example_state(recipient_name=typed))
    assert "control characters" in errors["recipient_name"]


@pytest.mark.parametrize(
    "field, typed",
    [
        ("recipient_name", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Rezaei"),  # ZWNJ
        ("recipient_name", "\u0c95\u0ccd\u200d\u0cb7 Rao"),  # Kannada, ZWJ after virama
        ("recipient_name", "Ro\u200dsa"),
        ("address_line1", "12 \u0645\u06cc\u200c\u062f\u0627\u0646 Street"),
        ("address_line2", "\u0915\u094d\u200c\u0937 House"),
    ],
)
def test_zero_width_joiners_inside_a_word_are_text(field: str, typed: str) -> None:
    """Persian and Indic names need U+200C/U+200D between letters (issue 22)."""
    request = parse_ok(example_state(**{field: typed}))
    assert typed in json.dumps(request.model_dump(mode="json"), ensure_ascii=False)
