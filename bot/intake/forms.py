"""Turn a submitted `/ship` modal into a `ShipmentRequest` (or `Customs`), or field errors.

Slack's own limits on the elements (max_length, min/max) are only hints to the client: a
crafted payload can send anything, so every value is checked again here, parsed with
`Decimal`, and each problem is reported against the input block it came from, in words that
say how to fix it (Slack shows them under the field via `response_action="errors"`).

The field ids and limits live here, not in `blocks/ship_form.py`, so that the view (which imports
them to set its client-side hints) and this parser cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from blocks.countries import COUNTRY_NAMES, POSTCODE_OPTIONAL, UK_POSTCODE_COUNTRIES
from bot.intake.field_reader import (
    MAX_NUMBER_CHARS,
    FieldErrors,
    FieldReader,
    clean_text,
)
from bot.models import (
    Customs,
    Direction,
    ExportReason,
    Money,
    Parcel,
    Recipient,
    ReturnReason,
    ShipmentRequest,
)
from bot.money import format_money

# The form's parcel-preset select (block id and action id): not an input, so never parsed.
PARCEL_PRESET = "parcel_preset"  # = blocks.ids.ActionId.PARCEL_PRESET (forms sits below blocks)

# Page 1 (callback "ship_form") input block ids.
RECIPIENT_NAME = "recipient_name"
RECIPIENT_EMAIL = "recipient_email"
RECIPIENT_PHONE = "recipient_phone"
RECIPIENT_COMPANY = "recipient_company"
ADDRESS_LINE1 = "address_line1"
ADDRESS_LINE2 = "address_line2"
ADDRESS_TOWN = "address_town"
ADDRESS_POSTCODE = "address_postcode"
ADDRESS_COUNTRY = "address_country"
PARCEL_COUNT = "parcel_count"
PARCEL_WEIGHT = "parcel_weight_kg"
PARCEL_LENGTH = "parcel_length_cm"
PARCEL_WIDTH = "parcel_width_cm"
PARCEL_HEIGHT = "parcel_height_cm"
DECLARED_VALUE = "declared_value"
DECLARED_CURRENCY = "declared_currency"
CONTENTS = "contents"
ORDER_NUMBER = "order_number"
SHIPPER_REFERENCE = "shipper_reference"

SHIPMENT_BLOCK_IDS: tuple[str, ...] = (
    RECIPIENT_NAME,
    RECIPIENT_EMAIL,
    RECIPIENT_PHONE,
    RECIPIENT_COMPANY,
    ADDRESS_LINE1,
    ADDRESS_LINE2,
    ADDRESS_TOWN,
    ADDRESS_POSTCODE,
    ADDRESS_COUNTRY,
    PARCEL_COUNT,
    PARCEL_WEIGHT,
    PARCEL_LENGTH,
    PARCEL_WIDTH,
    PARCEL_HEIGHT,
    CONTENTS,
    DECLARED_VALUE,
    DECLARED_CURRENCY,
    ORDER_NUMBER,
    SHIPPER_REFERENCE,
)

# Page 2 (callback "ship_customs") input block ids.
CUSTOMS_CONTENTS = "customs_contents"
CUSTOMS_HS_CODE = "customs_hs_code"
CUSTOMS_ORIGIN = "customs_origin_country"
CUSTOMS_ITEM_VALUE = "customs_item_value"
CUSTOMS_REASON = "customs_reason"

CUSTOMS_BLOCK_IDS: tuple[str, ...] = (
    CUSTOMS_CONTENTS,
    CUSTOMS_HS_CODE,
    CUSTOMS_ORIGIN,
    CUSTOMS_ITEM_VALUE,
    CUSTOMS_REASON,
)

# Limits. Text lengths follow what carriers print on labels; the rest is what a parcel
# service (not freight) takes.
MAX_NAME = 35
MAX_COMPANY = 35
MAX_ADDRESS_LINE = 35
MAX_TOWN = 30
MAX_POSTCODE = 10
MAX_EMAIL = 254
MAX_PHONE = 30
MIN_PHONE_DIGITS = 6
MAX_PHONE_DIGITS = 20
MAX_CONTENTS = 50
MAX_ORDER_NUMBER = 30
MAX_SHIPPER_REFERENCE = 40
MIN_PARCELS = 1
MAX_PARCELS = 20
MIN_WEIGHT_KG = Decimal("0.01")
MAX_WEIGHT_KG = Decimal("30")
MIN_SIDE_CM = Decimal("1")
MAX_SIDE_CM = Decimal("200")
# Longest side + 2 x (the other two): the usual "length plus girth" cap of parcel carriers.
MAX_LENGTH_PLUS_GIRTH_CM = Decimal("300")
MIN_VALUE = Decimal("0.01")
MAX_VALUE = Decimal("50000")
CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD")
DEFAULT_CURRENCY = "GBP"
DEFAULT_COUNTRY = "GB"
DEFAULT_ORIGIN_COUNTRY = "GB"

_WEIGHT_PLACES = 3
_SIDE_PLACES = 1
_MONEY_PLACES = 2

# re.ASCII everywhere: \d must not accept other scripts' digits.
# The one email pattern: the form's check (fullmatch) and the address reader's search.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
_PHONE = re.compile(r"\+?[0-9 ()\-]+", re.ASCII)
_UK_POSTCODE = re.compile(
    r"(?P<out>[A-PR-UWYZ](?:\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d{1,2}|[A-HK-Y]\d[ABEHMNPRVWXY]))"
    r"(?P<in>\d[ABD-HJLNP-UW-Z]{2})",
    re.ASCII,
)
_OTHER_POSTCODE = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]*[A-Z0-9])?", re.ASCII)
_SHIPPER_REFERENCE = re.compile(r"[A-Za-z0-9_/.-]+", re.ASCII)
_HS_CODE = re.compile(r"\d{6,10}", re.ASCII)


def normalise_uk_postcode(text: str) -> str | None:
    """ "sw1a2aa" -> "SW1A 2AA"; None when it isn't a UK postcode (GIR 0AA is one)."""
    squashed = "".join(text.split()).upper()
    if squashed == "GIR0AA":
        return "GIR 0AA"
    match = _UK_POSTCODE.fullmatch(squashed)
    if match is None:
        return None
    return f"{match['out']} {match['in']}"


def _read_recipient(form: FieldReader) -> Recipient | None:
    """Page 1's recipient fields, for the form and "Fix the address" alike; None if any is wrong
    (its errors are in `form.errors`)."""
    before = len(form.errors)
    country = form.choice(
        ADDRESS_COUNTRY, COUNTRY_NAMES, missing="Choose the country the parcel goes to."
    )
    fields = {
        "name": form.text(RECIPIENT_NAME, "Name", MAX_NAME, missing="Enter the recipient's name."),
        "email": _email(form),
        "phone": _phone(form),
        "company": form.optional_text(RECIPIENT_COMPANY, "Company", MAX_COMPANY),
        "line1": form.text(
            ADDRESS_LINE1,
            "Address line 1",
            MAX_ADDRESS_LINE,
            missing="Enter the first address line.",
        ),
        "line2": form.optional_text(ADDRESS_LINE2, "Address line 2", MAX_ADDRESS_LINE),
        "town": form.text(ADDRESS_TOWN, "Town", MAX_TOWN, missing="Enter the town or city."),
        "postcode": _postcode(form, country),
        "country": country,
    }
    if len(form.errors) > before:
        return None
    return Recipient.model_validate(fields)


def parse_destination(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> Recipient | FieldErrors:
    """ "Fix the address": the recipient's fields of page 1, read and checked the same way."""
    form = FieldReader(values)
    recipient = _read_recipient(form)
    return form.errors if recipient is None else recipient


def parse_shipment(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> ShipmentRequest | FieldErrors:
    """Page 1's `view.state.values` -> a request with `customs=None`, or every field's error."""
    form = FieldReader(values)
    recipient = _read_recipient(form)
    count = _parcel_count(form)
    weight = form.decimal(
        PARCEL_WEIGHT,
        MIN_WEIGHT_KG,
        MAX_WEIGHT_KG,
        _WEIGHT_PLACES,
        missing="Enter the weight of one parcel in kg, like 2.5.",
        not_number="Weight must be a number of kg, like 2.5.",
        out_of_range=f"Weight must be between {MIN_WEIGHT_KG} and {MAX_WEIGHT_KG} kg.",
    )
    sides = {
        block_id: form.decimal(
            block_id,
            MIN_SIDE_CM,
            MAX_SIDE_CM,
            _SIDE_PLACES,
            missing=f"Enter the {label.lower()} in cm, like 30.",
            not_number=f"{label} must be a number of cm, like 30.",
            out_of_range=f"{label} must be between {MIN_SIDE_CM} and {MAX_SIDE_CM} cm.",
        )
        for block_id, label in (
            (PARCEL_LENGTH, "Length"),
            (PARCEL_WIDTH, "Width"),
            (PARCEL_HEIGHT, "Height"),
        )
    }
    _check_girth(form, sides)

    currency = form.choice(
        DECLARED_CURRENCY,
        {code: code for code in CURRENCIES},
        missing=f"Choose a currency: {', '.join(CURRENCIES)}.",
    )
    value = form.decimal(
        DECLARED_VALUE,
        MIN_VALUE,
        MAX_VALUE,
        _MONEY_PLACES,
        missing="Enter the value of the contents, like 49.99.",
        not_number="Declared value must be an amount, like 49.99.",
        out_of_range=f"Declared value must be more than 0 and at most {MAX_VALUE:,}.",
    )
    contents = form.text(
        CONTENTS, "Contents", MAX_CONTENTS, missing="Say what's inside, like Running shoes."
    )
    order_number = form.optional_text(ORDER_NUMBER, "Order number", MAX_ORDER_NUMBER)
    reference = _shipper_reference(form)

    if form.errors or recipient is None:
        return form.errors
    return ShipmentRequest(
        shipper_reference=reference,
        order_number=order_number,
        recipient=recipient,
        parcel=Parcel(
            weight_kg=weight,
            length_cm=sides[PARCEL_LENGTH],
            width_cm=sides[PARCEL_WIDTH],
            height_cm=sides[PARCEL_HEIGHT],
        ),
        parcel_count=count,
        value=Money(amount=value, currency=currency),
        contents=contents,
    )


def parse_customs(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]], shipment: ShipmentRequest
) -> Customs | FieldErrors:
    """Page 2's `view.state.values` -> `Customs` for `shipment`, or every field's error."""
    form = FieldReader(values)
    declared = shipment.value

    contents = form.text(
        CUSTOMS_CONTENTS,
        "Description",
        MAX_CONTENTS,
        missing="Describe the goods for customs, like Running shoes.",
    )
    hs_code = _hs_code(form)
    origin = form.choice(
        CUSTOMS_ORIGIN, COUNTRY_NAMES, missing="Choose the country the goods were made in."
    )
    item_value = form.decimal(
        CUSTOMS_ITEM_VALUE,
        MIN_VALUE,
        declared.amount,
        _MONEY_PLACES,
        missing="Enter the value of the goods, like 49.99.",
        not_number="Item value must be an amount, like 49.99.",
        out_of_range="Item value must be more than 0 and not more than the declared value "
        f"({format_money(declared.amount, declared.currency)}).",
    )
    reasons = {reason.value: reason.value for reason in ExportReason}
    reason = form.choice(CUSTOMS_REASON, reasons, missing="Choose why the goods are being sent.")

    if form.errors:
        return form.errors
    return Customs(
        contents=contents,
        hs_code=hs_code,
        origin_country=origin,
        item_value=Money(amount=item_value, currency=declared.currency),
        reason=ExportReason(reason),
    )


def _email(form: FieldReader) -> str | None:
    email = form.optional_text(RECIPIENT_EMAIL, "Email", MAX_EMAIL)
    if email is not None and not EMAIL.fullmatch(email):
        form.fail(RECIPIENT_EMAIL, "Enter an email like name@example.com, or leave it empty.")
        return None
    return email


def _phone(form: FieldReader) -> str:
    phone = form.text(
        RECIPIENT_PHONE, "Phone", MAX_PHONE, missing="Enter the recipient's phone number."
    )
    if RECIPIENT_PHONE in form.errors:
        return ""
    digits = sum(char.isdigit() for char in phone)
    if not _PHONE.fullmatch(phone) or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        form.fail(
            RECIPIENT_PHONE,
            f"Phone must have {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, "
            "using only digits, spaces, + ( ) and -.",
        )
        return ""
    return phone


def _postcode(form: FieldReader, country: str) -> str:
    """UK-format countries get the full check and "SW1A 2AA" spelling; others a sanity check."""
    raw = form.raw(ADDRESS_POSTCODE)
    text = clean_text(raw) if raw is not None else ""
    if text is None:
        form.fail(ADDRESS_POSTCODE, "Postcode has invisible or control characters: retype it.")
        return ""
    if not text:
        if country in POSTCODE_OPTIONAL:
            return ""
        form.fail(ADDRESS_POSTCODE, "Enter the postcode.")
        return ""
    if country in UK_POSTCODE_COUNTRIES:
        postcode = normalise_uk_postcode(text)
        if postcode is None:
            form.fail(ADDRESS_POSTCODE, "Enter a UK postcode like SW1A 2AA.")
            return ""
        return postcode
    postcode = text.upper()
    if len(postcode) > MAX_POSTCODE or not _OTHER_POSTCODE.fullmatch(postcode):
        form.fail(
            ADDRESS_POSTCODE,
            f"Postcode must be up to {MAX_POSTCODE} letters, digits, spaces or hyphens.",
        )
        return ""
    return postcode


def _parcel_count(form: FieldReader) -> int:
    message = f"Number of parcels must be a whole number from {MIN_PARCELS} to {MAX_PARCELS}."
    count = form.decimal(
        PARCEL_COUNT,
        Decimal(MIN_PARCELS),
        Decimal(MAX_PARCELS),
        MAX_NUMBER_CHARS,  # fractions get the whole-number message below
        missing=message,
        not_number=message,
        out_of_range=message,
    )
    if PARCEL_COUNT in form.errors:
        return 0
    if count != count.to_integral_value():
        form.fail(PARCEL_COUNT, message)
        return 0
    return int(count)


def _check_girth(form: FieldReader, sides: Mapping[str, Decimal]) -> None:
    if any(block_id in form.errors for block_id in sides):
        return
    longest = max(sides, key=lambda block_id: sides[block_id])
    size = sides[longest] + 2 * (sum(sides.values()) - sides[longest])
    if size > MAX_LENGTH_PLUS_GIRTH_CM:
        form.fail(
            longest,
            f"Too big for a parcel: longest side + 2 × the other two must be at most "
            f"{MAX_LENGTH_PLUS_GIRTH_CM} cm (this one is {size.normalize():f} cm).",
        )


def _shipper_reference(form: FieldReader) -> str:
    message = (
        f"Shipper reference must be 1 to {MAX_SHIPPER_REFERENCE} letters, digits "
        "or - _ / . (no spaces)."
    )
    raw = form.raw(SHIPPER_REFERENCE)
    text = raw.strip() if raw is not None else ""
    if not text:
        form.fail(SHIPPER_REFERENCE, "Enter a shipper reference (it must be unique).")
        return ""
    if len(text) > MAX_SHIPPER_REFERENCE or not _SHIPPER_REFERENCE.fullmatch(text):
        form.fail(SHIPPER_REFERENCE, message)
        return ""
    return text


def _hs_code(form: FieldReader) -> str:
    message = (
        "HS code must be 6 to 10 digits, like 6404.11 (look it up at trade-tariff.service.gov.uk)."
    )
    raw = form.raw(CUSTOMS_HS_CODE)
    if raw is None or not raw.strip():
        form.fail(CUSTOMS_HS_CODE, message)
        return ""
    digits = raw.strip().replace(" ", "").replace(".", "")
    if not _HS_CODE.fullmatch(digits):
        form.fail(CUSTOMS_HS_CODE, message)
        return ""
    return digits


# -- the return form (callback "ship_return"): page 1's fields plus why it comes back ------

RETURN_REASON = "return_reason"
RETURN_NOTE = "return_note"
RETURN_BLOCK_IDS: tuple[str, ...] = (RETURN_REASON, RETURN_NOTE)
MAX_RETURN_NOTE = 150


def parse_return_reason(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> tuple[ReturnReason, str | None] | FieldErrors:
    """The reason and its words; "Other" needs the words, the others may have them."""
    form = FieldReader(values)
    reasons = {reason.value: reason.value for reason in ReturnReason}
    chosen = form.choice(RETURN_REASON, reasons, missing="Choose why it comes back.")
    note = form.optional_text(RETURN_NOTE, "The reason", MAX_RETURN_NOTE)
    if chosen == ReturnReason.OTHER.value and not note and RETURN_NOTE not in form.errors:
        form.fail(RETURN_NOTE, "Say in a few words why it comes back.")
    if form.errors:
        return form.errors
    return ReturnReason(chosen), note


def parse_return_form(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> ShipmentRequest | FieldErrors:
    """The return form: page 1's fields (the customer as sender) and the reason, Inbound."""
    shipment = parse_shipment(values)
    reason = parse_return_reason(values)
    errors = {
        **(shipment if isinstance(shipment, dict) else {}),
        **(reason if isinstance(reason, dict) else {}),
    }
    if errors or isinstance(shipment, dict) or isinstance(reason, dict):
        return errors
    why, note = reason
    return shipment.model_copy(
        update={"direction": Direction.INBOUND, "return_reason": why, "return_note": note}
    )
