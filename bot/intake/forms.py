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
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from blocks.countries import COUNTRY_NAMES, POSTCODE_OPTIONAL, UK_POSTCODE_COUNTRIES
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

FieldErrors = dict[str, str]
"""block_id -> message; only ids of input blocks, as `ack(response_action="errors")` needs."""

# Every input has a single element, and they all use this action id. A view rebuilt to
# replace what the agent typed (a parcel preset) gives the element a new one, "value.2":
# Slack keeps typed input only while block_id *and* action_id stay the same, so block ids
# (what this parser and `response_action="errors"` use) never change.
ACTION = "value"
_REKEYED_ACTION = re.compile(r"value\.\d{1,6}", re.ASCII)

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
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
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
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned code
# points: nothing a label printer or a carrier's API should see.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_ALLOWED_WHITESPACE = frozenset("\t\n\r")
# Emoji building blocks (see _clean): zero-width joiner, variation selector 16, the black
# flag and the tag characters that make it a subdivision flag.
_ZWJ = "\u200d"
# Zero-width non-joiner and joiner: valid inside a word (Persian, Indic scripts).
_WORD_JOINERS = frozenset({"\u200c", _ZWJ})
_VS16 = "\ufe0f"
_BLACK_FLAG = "\U0001f3f4"
_TAG_FIRST, _TAG_LAST, _TAG_END = 0xE0020, 0xE007F, "\U000e007f"
# A number longer than this is junk, not a value (and we never feed junk to Decimal).
_MAX_NUMBER_CHARS = 24


def is_form_action(action_id: object) -> bool:
    """The action id of a form input: `ACTION`, or `ACTION` re-keyed by a view update."""
    return action_id == ACTION or (
        isinstance(action_id, str) and _REKEYED_ACTION.fullmatch(action_id) is not None
    )


def form_action(block: Mapping[str, Any]) -> Any:
    """One input block's element state from `state.values[block_id]`, whatever its key."""
    if ACTION in block:
        return block[ACTION]
    return next((state for key, state in block.items() if is_form_action(key)), None)


def normalise_uk_postcode(text: str) -> str | None:
    """ "sw1a2aa" -> "SW1A 2AA"; None when it isn't a UK postcode (GIR 0AA is one)."""
    squashed = "".join(text.split()).upper()
    if squashed == "GIR0AA":
        return "GIR 0AA"
    match = _UK_POSTCODE.fullmatch(squashed)
    if match is None:
        return None
    return f"{match['out']} {match['in']}"


def parse_destination(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> Recipient | FieldErrors:
    """ "Fix the address": the recipient's fields of page 1, read and checked the same way."""
    form = _Reader(values)
    name = form.text(RECIPIENT_NAME, "Name", MAX_NAME, missing="Enter the recipient's name.")
    email = _email(form)
    phone = _phone(form)
    company = form.optional_text(RECIPIENT_COMPANY, "Company", MAX_COMPANY)
    line1 = form.text(
        ADDRESS_LINE1, "Address line 1", MAX_ADDRESS_LINE, missing="Enter the first address line."
    )
    line2 = form.optional_text(ADDRESS_LINE2, "Address line 2", MAX_ADDRESS_LINE)
    town = form.text(ADDRESS_TOWN, "Town", MAX_TOWN, missing="Enter the town or city.")
    country = form.choice(
        ADDRESS_COUNTRY, COUNTRY_NAMES, missing="Choose the country the parcel goes to."
    )
    postcode = _postcode(form, country)
    if form.errors:
        return form.errors
    return Recipient(
        name=name,
        email=email,
        phone=phone,
        company=company,
        line1=line1,
        line2=line2,
        town=town,
        postcode=postcode,
        country=country,
    )


def parse_shipment(
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> ShipmentRequest | FieldErrors:
    """Page 1's `view.state.values` -> a request with `customs=None`, or every field's error."""
    form = _Reader(values)

    name = form.text(RECIPIENT_NAME, "Name", MAX_NAME, missing="Enter the recipient's name.")
    email = _email(form)
    phone = _phone(form)
    company = form.optional_text(RECIPIENT_COMPANY, "Company", MAX_COMPANY)
    line1 = form.text(
        ADDRESS_LINE1, "Address line 1", MAX_ADDRESS_LINE, missing="Enter the first address line."
    )
    line2 = form.optional_text(ADDRESS_LINE2, "Address line 2", MAX_ADDRESS_LINE)
    town = form.text(ADDRESS_TOWN, "Town", MAX_TOWN, missing="Enter the town or city.")
    country = form.choice(
        ADDRESS_COUNTRY, COUNTRY_NAMES, missing="Choose the country the parcel goes to."
    )
    postcode = _postcode(form, country)

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

    if form.errors:
        return form.errors
    return ShipmentRequest(
        shipper_reference=reference,
        order_number=order_number,
        recipient=Recipient(
            name=name,
            email=email,
            phone=phone,
            company=company,
            line1=line1,
            line2=line2,
            town=town,
            postcode=postcode,
            country=country,
        ),
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
    form = _Reader(values)
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


class _Reader:
    """Reads one field at a time from `state.values`, collecting errors by block id.

    Getters of required fields return an empty value after recording an error, so callers
    stay simple and only build the model when `errors` is empty.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values if isinstance(values, Mapping) else {}
        self.errors: FieldErrors = {}

    def fail(self, block_id: str, message: str) -> None:
        self.errors.setdefault(block_id, message)

    def _action(self, block_id: str) -> Mapping[str, Any]:
        block = self.values.get(block_id)
        action = form_action(block) if isinstance(block, Mapping) else None
        return action if isinstance(action, Mapping) else {}

    def raw(self, block_id: str) -> str | None:
        """The element's value: None when empty; "\\x00" (junk) when it isn't a string."""
        value = self._action(block_id).get("value")
        if value is None:
            return None
        if not isinstance(value, str):
            return "\x00"
        return value

    def optional_text(self, block_id: str, label: str, max_len: int) -> str | None:
        raw = self.raw(block_id)
        if raw is None:
            return None
        text = _clean(raw)
        if text is None:
            self.fail(block_id, f"{label} has invisible or control characters: retype it.")
            return None
        if len(text) > max_len:
            self.fail(block_id, f"{label} must be {max_len} characters or fewer.")
            return None
        return text or None

    def text(self, block_id: str, label: str, max_len: int, *, missing: str) -> str:
        text = self.optional_text(block_id, label, max_len)
        if text is None:
            self.fail(block_id, missing)  # keeps a more specific error already recorded
            return ""
        return text

    def choice(self, block_id: str, allowed: Mapping[str, str], *, missing: str) -> str:
        option = self._action(block_id).get("selected_option")
        value = option.get("value") if isinstance(option, Mapping) else None
        if isinstance(value, str) and value in allowed:
            return value
        self.fail(block_id, missing)
        return ""

    def decimal(
        self,
        block_id: str,
        low: Decimal,
        high: Decimal,
        places: int,
        *,
        missing: str,
        not_number: str,
        out_of_range: str,
    ) -> Decimal:
        raw = self.raw(block_id)
        text = raw.strip() if raw is not None else ""
        if not text:
            self.fail(block_id, missing)
            return Decimal(0)
        number = _decimal(text)
        if number is None:
            self.fail(block_id, not_number)
            return Decimal(0)
        if not low <= number <= high:
            self.fail(block_id, out_of_range)
            return Decimal(0)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.fail(block_id, f"{out_of_range[:-1]}, with at most {places} decimal places.")
            return Decimal(0)
        return number


def _clean(raw: str) -> str | None:
    """Trimmed, whitespace runs folded to one space, NFC; None if it holds junk characters.

    A zero-width non-joiner or joiner (U+200C, U+200D) between two letters stays: Persian and
    Indic names need them (می‌خواهم, ಕ್‍ಷ); at either end of the field, or beside a space or
    a digit, it only hides text and is refused, as is every other invisible or bidi control.
    The format characters that emoji are built of stay valid where they build an emoji: a
    zero-width joiner between two emoji (👨‍👩‍👧‍👦, 🏳️‍🌈) and the tag characters of a
    subdivision flag (Scotland's, England's). Anywhere else they hide text, and are refused.
    """
    for i, char in enumerate(raw):
        if char in _ALLOWED_WHITESPACE:
            continue
        if unicodedata.category(char) not in _BAD_CATEGORIES:
            continue
        if char == _ZWJ and 0 < i < len(raw) - 1 and _joins(raw[i - 1], raw[i + 1]):
            continue
        if char in _WORD_JOINERS and 0 < i < len(raw) - 1 and _in_word(raw[i - 1], raw[i + 1]):
            continue
        if _TAG_FIRST <= ord(char) <= _TAG_LAST and _in_tag_flag(raw, i):
            continue
        return None
    return unicodedata.normalize("NFC", " ".join(raw.split()))


def _in_word(before: str, after: str) -> bool:
    """Letters (or their marks) on both sides: ZWNJ/ZWJ shaping a Persian or Indic name."""
    return unicodedata.category(before)[0] in "LM" and unicodedata.category(after)[0] in "LM"


def _is_emoji(char: str) -> bool:
    """Pictographs, symbols and skin tones (So, Sk); VS16 ends an emoji too (🏳️ is 🏳 + VS16)."""
    return char == _VS16 or unicodedata.category(char) in ("So", "Sk")


def _joins(before: str, after: str) -> bool:
    return _is_emoji(before) and unicodedata.category(after) == "So"


def _in_tag_flag(raw: str, i: int) -> bool:
    """Tag characters after 🏴, up to the cancel tag that closes the flag."""
    start = i
    while start > 0 and _TAG_FIRST <= ord(raw[start - 1]) <= _TAG_LAST:
        start -= 1
    if start == 0 or raw[start - 1] != _BLACK_FLAG:
        return False
    end = i
    while end < len(raw) and _TAG_FIRST <= ord(raw[end]) <= _TAG_LAST and raw[end] != _TAG_END:
        end += 1
    return end < len(raw) and raw[end] == _TAG_END


def _decimal(text: str) -> Decimal | None:
    """Plain ASCII decimals only: no "NaN", "Infinity", "1e3", "1,5" or other scripts' digits."""
    if len(text) > _MAX_NUMBER_CHARS or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def _email(form: _Reader) -> str | None:
    email = form.optional_text(RECIPIENT_EMAIL, "Email", MAX_EMAIL)
    if email is not None and not EMAIL.fullmatch(email):
        form.fail(RECIPIENT_EMAIL, "Enter an email like name@example.com, or leave it empty.")
        return None
    return email


def _phone(form: _Reader) -> str:
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


def _postcode(form: _Reader, country: str) -> str:
    """UK-format countries get the full check and "SW1A 2AA" spelling; others a sanity check."""
    raw = form.raw(ADDRESS_POSTCODE)
    text = _clean(raw) if raw is not None else ""
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


def _parcel_count(form: _Reader) -> int:
    message = f"Number of parcels must be a whole number from {MIN_PARCELS} to {MAX_PARCELS}."
    count = form.decimal(
        PARCEL_COUNT,
        Decimal(MIN_PARCELS),
        Decimal(MAX_PARCELS),
        _MAX_NUMBER_CHARS,  # fractions get the whole-number message below
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


def _check_girth(form: _Reader, sides: Mapping[str, Decimal]) -> None:
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


def _shipper_reference(form: _Reader) -> str:
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


def _hs_code(form: _Reader) -> str:
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
    form = _Reader(values)
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
