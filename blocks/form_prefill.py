"""The ship form filled in before the agent types: from an address in a message, from a
postcode typed after `/ship`, or from a past consignment ("Ship again", a replacement).

Pure functions to Block Kit JSON over `blocks.ship_form`; only what fits a field is filled in,
and a notice on top says what was copied and what is left to the agent.
"""

from __future__ import annotations

from collections.abc import Sequence

from blocks.countries import COUNTRY_NAMES
from blocks.form_fields import View, with_notice
from blocks.ship_form import shipment_modal
from bot.intake.address import (
    COUNTRY,
    NAME,
    PHONE,
    POSTCODE,
    STREET,
    TOWN,
    AddressGuess,
    uk_postcode_country,
)
from bot.intake.forms import (
    ADDRESS_COUNTRY,
    ADDRESS_LINE1,
    ADDRESS_LINE2,
    ADDRESS_POSTCODE,
    ADDRESS_TOWN,
    MAX_ADDRESS_LINE,
    MAX_COMPANY,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PHONE,
    MAX_POSTCODE,
    MAX_TOWN,
    RECIPIENT_COMPANY,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_PHONE,
    normalise_uk_postcode,
)
from bot.intake.presets import ParcelPreset
from bot.models import ShipmentRequest

_MISSING_WORDS = {
    NAME: "a name",
    STREET: "a street address",
    TOWN: "a town",
    POSTCODE: "a postcode",
    COUNTRY: "the country",
    PHONE: "a phone number",
}


def prefill_from_address(guess: AddressGuess) -> dict[str, str]:
    """Initial values for `shipment_modal(initial=...)` from what `parse_address` read.

    Only what was found, and only what fits its field; the notice says what's left to type.
    """
    return _address_fields(guess)[0]


def address_notice(guess: AddressGuess) -> str | None:
    """ "Couldn't find a postcode or a phone number in the message." (None: all found)."""
    _, too_long = _address_fields(guess)
    missing = list(guess.missing)
    if {STREET, TOWN, POSTCODE} <= set(missing):
        return "Couldn't find an address in the message: fill in the form."
    sentences = []
    if missing:
        wanted = [_MISSING_WORDS.get(label, label) for label in missing]
        sentences.append(f"Couldn't find {_or(wanted)} in the message.")
    if too_long:
        sentences.append(f"Too long for the form, so left for you: {_or(too_long, 'and')}.")
    if guess.line2 and guess.line3 and "address line 3" not in too_long:
        sentences.append("Check address line 2: two lines of the message share it.")
    return " ".join(sentences) or None


def address_modal(
    private_metadata: str,
    *,
    shipper_reference: str,
    guess: AddressGuess,
    presets: Sequence[ParcelPreset] = (),
) -> View:
    """The form for "Ship to this address": filled from `guess`, what's missing said on top."""
    view = shipment_modal(
        private_metadata,
        shipper_reference=shipper_reference,
        initial=prefill_from_address(guess),
        presets=presets,
    )
    notice = address_notice(guess)
    return with_notice(view, notice) if notice else view


def postcode_prefill(text: str) -> dict[str, str] | None:
    """`/ship sw1a2aa` -> the postcode (and JE/GG/IM for theirs); None: not a UK postcode."""
    postcode = normalise_uk_postcode(text) if len(text) <= 2 * MAX_POSTCODE else None
    if postcode is None:
        return None
    return {ADDRESS_POSTCODE: postcode, ADDRESS_COUNTRY: uk_postcode_country(postcode)}


def ship_again_draft(request: ShipmentRequest) -> ShipmentRequest:
    """A past consignment as a new one: same recipient, parcels, contents, value and customs;
    no order number (a new order has its own). The caller gives a new shipper reference.
    """
    return request.model_copy(update={"order_number": None})


def ship_again_modal(
    private_metadata: str,
    *,
    request: ShipmentRequest,
    shipper_reference: str,
    presets: Sequence[ParcelPreset] = (),
    keep_order_number: bool = False,
) -> View:
    """The form for "Ship again", saying what was copied and what's left to the agent.

    `keep_order_number`: a replacement of the same order (the delivery desk's "Ship a
    replacement"), filled in from the carrier's record."""
    view = shipment_modal(
        private_metadata,
        shipper_reference=shipper_reference,
        draft=request if keep_order_number else ship_again_draft(request),
        presets=presets,
    )
    customs = " and customs" if request.customs else ""
    if keep_order_number:
        return with_notice(
            view,
            f"A replacement for {request.shipper_reference}, filled in from Sorted PRO's "
            "record: recipient, address, parcels and the order number. Check them and send.",
            emoji="🔁",
        )
    return with_notice(
        view,
        f"Copied from {request.shipper_reference}: recipient, parcels, contents{customs}. "
        "Add the new order number and check the parcels.",
        emoji="📦",
    )


def _address_fields(guess: AddressGuess) -> tuple[dict[str, str], list[str]]:
    """(initial values, the labels of found values too long for their field)."""
    line2 = guess.line2 or guess.line3
    line3_left_out = False
    if guess.line2 and guess.line3:  # the form has two address lines
        joined = f"{guess.line2}, {guess.line3}"
        line3_left_out = len(joined) > MAX_ADDRESS_LINE
        line2 = guess.line2 if line3_left_out else joined
    fields = (
        (RECIPIENT_NAME, "the name", guess.name, MAX_NAME),
        (RECIPIENT_COMPANY, "the company", guess.company, MAX_COMPANY),
        (RECIPIENT_EMAIL, "the email", guess.email, MAX_EMAIL),
        (RECIPIENT_PHONE, "the phone number", guess.phone, MAX_PHONE),
        (ADDRESS_LINE1, "address line 1", guess.line1, MAX_ADDRESS_LINE),
        (ADDRESS_LINE2, "address line 2", line2, MAX_ADDRESS_LINE),
        (ADDRESS_TOWN, "the town", guess.town, MAX_TOWN),
        (ADDRESS_POSTCODE, "the postcode", guess.postcode, MAX_POSTCODE),
    )
    initial: dict[str, str] = {}
    too_long: list[str] = []
    for block_id, label, value, limit in fields:
        if value and len(value) <= limit:
            initial[block_id] = value
        elif value:
            too_long.append(label)
    if line3_left_out:
        too_long.append("address line 3")
    if guess.country in COUNTRY_NAMES:
        initial[ADDRESS_COUNTRY] = guess.country
    return initial, too_long


def _or(words: Sequence[str], last: str = "or") -> str:
    """ "a, b or c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
