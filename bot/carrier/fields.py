"""Which form field a carrier refusal is about: `Details[].Target` to the agent's words and
the `/ship` form's block, so "Edit the form" reopens it on the right field."""

from __future__ import annotations

from bot.carrier.errors import CarrierError

# The carrier's field names (the last meaningful segment of a Details[].Target, e.g.
# "Addresses[1].Postcode") as an agent calls them, and the form field that holds them.
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "postcode": ("postcode", "address_postcode"),
    "town": ("town", "address_town"),
    "addressline1": ("address line 1", "address_line1"),
    "addressline2": ("address line 2", "address_line2"),
    "twolettercode": ("country", "address_country"),
    "country": ("country", "address_country"),
    "email": ("email", "recipient_email"),
    "telephone": ("phone number", "recipient_phone"),
    "mobile": ("phone number", "recipient_phone"),
    "firstname": ("recipient's name", "recipient_name"),
    "lastname": ("recipient's name", "recipient_name"),
    "companyname": ("company", "recipient_company"),
    "weight": ("weight", "parcel_weight_kg"),
    "length": ("length", "parcel_length_cm"),
    "width": ("width", "parcel_width_cm"),
    "height": ("height", "parcel_height_cm"),
    "description": ("contents", "contents"),
    "consignmentreferenceprovidedbycustomer": ("shipper reference", "shipper_reference"),
}
_GENERIC_SEGMENTS = {"value", "amount", "isocode", "unit", "currency"}


def refused_field(target: str | None) -> tuple[str, str] | None:
    """ "Packages[0].Weight.Value" -> ("weight", "parcel_weight_kg"); None if unknown."""
    if not target:
        return None
    segments = [s.split("[")[0].lower() for s in target.split(".")]
    for segment in reversed(segments):
        if segment in _GENERIC_SEGMENTS:
            continue
        return FIELD_NAMES.get(segment)
    return None


def refused_fields(exc: CarrierError) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for detail in exc.details:
        field = refused_field(detail.target)
        if field and field not in found:
            found.append(field)
    return found
