"""Update Consignment is a full replace (PUT): the record read back, its destination
swapped, read-only parts left out (pure).
"""

from __future__ import annotations

from bot.carrier.errors import UnexpectedResponse
from bot.carrier.mapping_create import split_name
from bot.models import Recipient

# -- Update Consignment: PUT /consignments/ (a full replace) ---------------------------------

# What Update Consignment takes (UpdateConsignmentRequest). Everything it omits is deleted
# (Packages: CONFLICT, kept per the help page, removed per the SDK), so all are copied.
UPDATE_FIELDS = (
    "Reference",
    "ShippingDate",
    "RequestedDeliveryDate",
    "ConsignmentReferenceProvidedByCustomer",
    "CustomsDocumentation",
    "Addresses",
    "MetaData",
    "Packages",
    "Tags",
)
# Get Consignment's package fields that are the carrier's, not ours to send back.
_PACKAGE_READ_ONLY = ("ConsignmentLegs", "Charges")


def destination_address(
    recipient: Recipient, current: dict[str, object] | None
) -> dict[str, object]:
    """The Destination as PRO spells it: the agent's fields over the current address, so
    what the form doesn't show (special instructions, contact extras) is kept. LatLong goes:
    it described the old address."""
    base: dict[str, object] = dict(current or {})
    old_contact = base.get("Contact")
    contact: dict[str, object] = dict(old_contact) if isinstance(old_contact, dict) else {}
    first, last = split_name(recipient.name)
    contact.update(
        {
            "FirstName": first,
            "LastName": last,
            "Email": recipient.email,
            "Telephone": recipient.phone,
        }
    )
    base.update(
        {
            "AddressType": "Destination",
            "Contact": contact,
            "CompanyName": recipient.company,
            "AddressLine1": recipient.line1,
            "AddressLine2": recipient.line2,
            "AddressLine3": recipient.line3,
            "Town": recipient.town,
            "Region": recipient.region,
            "Postcode": recipient.postcode,
            "Country": {"IsoCode": {"TwoLetterCode": recipient.country.upper()}},
            "LatLong": None,
        }
    )
    return base


def update_request(record: dict[str, object], recipient: Recipient) -> dict[str, object]:
    """The whole record as read just before, with only the destination changed."""
    body: dict[str, object] = {name: record[name] for name in UPDATE_FIELDS if name in record}
    addresses = record.get("Addresses")
    if not isinstance(addresses, list) or not addresses:
        raise UnexpectedResponse("Get Consignment answered without Addresses")
    replaced = False
    new_addresses: list[object] = []
    for address in addresses:
        if (
            isinstance(address, dict)
            and str(address.get("AddressType", "")).lower() == "destination"
        ):
            new_addresses.append(destination_address(recipient, address))
            replaced = True
        else:
            new_addresses.append(address)
    if not replaced:
        new_addresses.append(destination_address(recipient, None))
    body["Addresses"] = new_addresses
    packages = record.get("Packages")
    if isinstance(packages, list):
        body["Packages"] = [
            {k: v for k, v in p.items() if k not in _PACKAGE_READ_ONLY}
            if isinstance(p, dict)
            else p
            for p in packages
        ]
    return body
