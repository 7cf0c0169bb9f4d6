"""Reading request bodies: every problem becomes a `Details[]` entry naming its field.

All problems are collected before refusing, so a client sees every bad field at once,
the way a schema validator reports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.sandbox.catalogue import SHIPPING_LOCATIONS, ParcelSize, country_name
from bot.sandbox.errors import ApiProblem, Detail

KG_PER_UNIT = {
    "kg": Decimal(1), "kgs": Decimal(1), "kilogram": Decimal(1), "kilograms": Decimal(1),
    "g": Decimal("0.001"), "gram": Decimal("0.001"), "grams": Decimal("0.001"),
    "lb": Decimal("0.45359237"), "lbs": Decimal("0.45359237"),
    "pound": Decimal("0.45359237"), "pounds": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"), "ounce": Decimal("0.028349523125"),
    "ounces": Decimal("0.028349523125"),
}  # fmt: skip
CM_PER_UNIT = {
    "cm": Decimal(1), "centimetre": Decimal(1), "centimetres": Decimal(1),
    "mm": Decimal("0.1"), "millimetre": Decimal("0.1"), "millimetres": Decimal("0.1"),
    "m": Decimal(100), "metre": Decimal(100), "metres": Decimal(100),
    "in": Decimal("2.54"), "inch": Decimal("2.54"), "inches": Decimal("2.54"),
}  # fmt: skip

CONTACT_FIELDS = (
    "Reference", "Title", "FirstName", "LastName", "Position", "Telephone", "Mobile",
    "LandLine", "Email",
)  # fmt: skip
ADDRESS_TEXT_FIELDS = (
    "ShopLocationReference", "CompanyName", "ShippingLocationReference", "CustomerName",
    "AddressLine1", "AddressLine2", "AddressLine3", "Town", "Region", "Postcode", "RegionCode",
    "SpecialInstructions",
)  # fmt: skip


@dataclass(frozen=True)
class Address:
    """An address as the sandbox echoes it: every documented field, nulls explicit."""

    wire: dict[str, Any]

    @property
    def country(self) -> str:
        return str(self.wire["Country"]["IsoCode"]["TwoLetterCode"])

    @property
    def postcode(self) -> str:
        return str(self.wire["Postcode"] or "")

    @property
    def shipping_location(self) -> str | None:
        value = self.wire["ShippingLocationReference"]
        return str(value) if value else None

    def text(self, name: str) -> str:
        return str(self.wire.get(name) or "")

    @property
    def person(self) -> str:
        contact = self.wire.get("Contact") or {}
        parts = [contact.get("FirstName"), contact.get("LastName")]
        return " ".join(str(p) for p in parts if p)

    def lines(self) -> list[str]:
        """Printable lines for labels and customs forms, name first."""
        found = [self.person, self.text("CompanyName")]
        found += [self.text(f"AddressLine{n}") for n in (1, 2, 3)]
        found += [self.text("Town"), self.text("Region"), self.postcode]
        found.append(country_name(self.country))
        return [line for line in found if line]

    def short_lines(self) -> list[str]:
        """Three lines at most, for the sender block of a label."""
        name = ", ".join(x for x in (self.person, self.text("CompanyName")) if x)
        street = ", ".join(x for x in (self.text("AddressLine1"), self.text("Town")) if x)
        return [x for x in (name, street, f"{self.postcode} {country_name(self.country)}") if x]


@dataclass(frozen=True)
class Item:
    description: str
    quantity: int
    weight_kg: Decimal | None
    value: Decimal | None
    hs_code: str
    origin_country: str


@dataclass(frozen=True)
class Package:
    size: ParcelSize
    declared_value: Decimal
    description: str
    items: tuple[Item, ...]
    wire: dict[str, Any]  # the request's package, echoed back with Weight/Dimensions in Kg/Cm


@dataclass(frozen=True)
class NewConsignment:
    customer_reference: str
    source: str
    direction: str
    shipping_date: date | None
    origin: Address
    destination: Address
    packages: tuple[Package, ...]
    customs: dict[str, Any] | None
    metadata: list[Any]
    tags: list[Any]
    requested_delivery: Any

    @property
    def declared_value(self) -> Decimal:
        return sum((p.declared_value for p in self.packages), Decimal(0))

    @property
    def reason_for_export(self) -> str:
        return str((self.customs or {}).get("ReasonForExport") or "")

    @property
    def category_type(self) -> str:
        """The CustomsDocumentation's CategoryType in its documented spelling ("" if none)."""
        raw = (self.customs or {}).get("CategoryType")
        return (_category(raw) or "") if isinstance(raw, str) else ""

    def metadata_text(self, key: str) -> str:
        """A consignment MetaData entry's StringValue (e.g. the Brexit guide's ShippersEORI)."""
        for entry in self.metadata:
            if isinstance(entry, dict) and entry.get("KeyValue") == key:
                return str(entry.get("StringValue") or "")
        return ""


# The SDK's CategoryType enum, plus SaleOfGoods and Personal (the later PHP client; the
# Brexit guide). Read case-insensitively, as .NET's string-enum converter does (GUESS).
CATEGORY_TYPES = (
    "None",
    "Gift",
    "CommercialSample",
    "Documents",
    "Other",
    "ReturnedGoods",
    "SaleOfGoods",
    "Personal",
)


def _category(value: str) -> str | None:
    return next((name for name in CATEGORY_TYPES if name.lower() == value.strip().lower()), None)


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(
            400, "MalformedBody", f"The request body is not valid JSON: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise ApiProblem(400, "MalformedBody", "The request body must be a JSON object.")
    return value


@dataclass
class _Problems:
    details: list[Detail] = field(default_factory=list)
    unknown_location: Detail | None = None

    def add(self, code: str, target: str, message: str) -> None:
        self.details.append(Detail(code, target, message))

    def raise_if_any(self) -> None:
        if self.details:
            details = self.details + ([self.unknown_location] if self.unknown_location else [])
            raise ApiProblem(400, "ValidationError", _summary(details), details)
        if self.unknown_location:
            detail = self.unknown_location
            raise ApiProblem(400, "UnknownShippingLocation", detail.message, [detail])


def _summary(details: list[Detail]) -> str:
    return f"The request is invalid: {len(details)} problem(s), first: {details[0].message}"


def _number(
    problems: _Problems, value: Any, target: str, *, positive: bool = True
) -> Decimal | None:
    if value is None or value == "":
        problems.add("Required", target, f"{target} is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add("Invalid", target, f"{target} must be a number.")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add("Invalid", target, f"{target} must be a number (got {value!r}).")
        return None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        bound = "greater than 0" if positive else "0 or more"
        problems.add("OutOfRange", target, f"{target} must be {bound} (got {value}).")
        return None
    return number


def _unit(problems: _Problems, value: Any, target: str, table: dict[str, Decimal]) -> Decimal:
    """Factor to Kg or Cm; a missing unit means the wire default (Kg, Cm)."""
    if value is None or value == "":
        return Decimal(1)
    factor = table.get(str(value).strip().lower())
    if factor is None:
        problems.add("UnknownUnit", target, f"{target} {value!r} is not a known unit.")
        return Decimal(1)
    return factor


def _object(problems: _Problems, value: Any, target: str) -> dict[str, Any] | None:
    if value is None:
        problems.add("Required", target, f"{target} is required.")
        return None
    if not isinstance(value, dict):
        problems.add("Invalid", target, f"{target} must be an object.")
        return None
    return value


def _money(problems: _Problems, value: Any, target: str) -> Decimal | None:
    if value is None:
        return None
    money = _object(problems, value, target)
    if money is None:
        return None
    return _number(problems, money.get("Amount"), f"{target}.Amount", positive=False)


def _weight_kg(problems: _Problems, raw: Any, target: str) -> Decimal | None:
    weight = _object(problems, raw, target)
    if weight is None:
        return None
    value = _number(problems, weight.get("Value"), f"{target}.Value")
    factor = _unit(problems, weight.get("Unit"), f"{target}.Unit", KG_PER_UNIT)
    return None if value is None else value * factor


def _package(problems: _Problems, raw: Any, index: int) -> Package | None:
    target = f"Packages[{index}]"
    package = _object(problems, raw, target)
    if package is None:
        return None
    weight = _weight_kg(problems, package.get("Weight"), f"{target}.Weight")
    dims = _object(problems, package.get("Dimensions"), f"{target}.Dimensions")
    sides: list[Decimal | None] = [None, None, None]
    if dims is not None:
        factor = _unit(problems, dims.get("Unit"), f"{target}.Dimensions.Unit", CM_PER_UNIT)
        for n, name in enumerate(("Length", "Width", "Height")):
            side = _number(problems, dims.get(name), f"{target}.Dimensions.{name}")
            sides[n] = None if side is None else side * factor
    items = _items(problems, package.get("Items"), target)
    value = _money(problems, package.get("Value"), f"{target}.Value")
    if weight is None or None in sides:
        return None
    length, width, height = (s for s in sides if s is not None)
    if value is None:
        value = sum(((i.value or Decimal(0)) * i.quantity for i in items), Decimal(0))
    wire = dict(package)
    wire["Weight"] = {"Value": float(weight), "Unit": "Kg"}
    wire["Dimensions"] = {
        "Unit": "Cm",
        "Width": float(width),
        "Length": float(length),
        "Height": float(height),
    }
    return Package(
        size=ParcelSize(weight, length, width, height),
        declared_value=value,
        description=str(package.get("Description") or ""),
        items=tuple(items),
        wire=wire,
    )


def _items(problems: _Problems, raw: Any, package_target: str) -> list[Item]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Invalid", f"{package_target}.Items", "Items must be a list.")
        return []
    found = []
    for n, entry in enumerate(raw):
        target = f"{package_target}.Items[{n}]"
        item = _object(problems, entry, target)
        if item is None:
            continue
        quantity = item.get("Quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            problems.add("Invalid", f"{target}.Quantity", "Quantity must be a whole number ≥ 1.")
            quantity = 1
        weight = None
        if item.get("Weight") is not None:
            weight = _weight_kg(problems, item["Weight"], f"{target}.Weight")
        origin = ((item.get("CountryOfOrigin") or {}).get("IsoCode") or {}).get("TwoLetterCode")
        found.append(
            Item(
                description=str(item.get("Description") or item.get("Sku") or ""),
                quantity=quantity,
                weight_kg=weight,
                value=_money(problems, item.get("Value"), f"{target}.Value"),
                hs_code=str(item.get("HarmonisationCode") or ""),
                origin_country=str(origin or ""),
            )
        )
    return found


def _country_code(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    iso = raw.get("IsoCode")
    code = iso.get("TwoLetterCode") if isinstance(iso, dict) else None
    return str(code).strip().upper() if code else ""


def _address_wire(raw: dict[str, Any], address_type: str, country: str) -> dict[str, Any]:
    contact = raw.get("Contact")
    wire: dict[str, Any] = {"AddressType": address_type}
    wire["Contact"] = (
        {name: contact.get(name) for name in CONTACT_FIELDS} if isinstance(contact, dict) else None
    )
    for name in ADDRESS_TEXT_FIELDS:
        wire[name] = raw.get(name)
    wire["Country"] = {"Name": country_name(country), "IsoCode": {"TwoLetterCode": country}}
    wire["LatLong"] = raw.get("LatLong")
    wire["IsCached"] = bool(raw.get("IsCached", False))
    return wire


def _at_location(
    problems: _Problems, raw: dict[str, Any], index: int, address_type: str
) -> Address:
    """An address given by its ShippingLocationReference, filled in from the location."""
    target = f"Addresses[{index}]"
    location = raw.get("ShippingLocationReference")
    known = SHIPPING_LOCATIONS.get(str(location))
    if known is None:
        problems.unknown_location = Detail(
            "UnknownShippingLocation",
            f"{target}.ShippingLocationReference",
            f"Shipping location {location!r} is not known to the sandbox "
            f"(it knows {', '.join(sorted(SHIPPING_LOCATIONS))}).",
        )
        known = next(iter(SHIPPING_LOCATIONS.values()))
    merged = {k: v for k, v in known.items() if k != "CountryCode"} | {
        k: v for k, v in raw.items() if v not in (None, "")
    }
    return Address(_address_wire(merged, address_type, known["CountryCode"]))


def _origin(problems: _Problems, raw: dict[str, Any], index: int) -> Address:
    target = f"Addresses[{index}]"
    if raw.get("ShippingLocationReference"):
        return _at_location(problems, raw, index, "Origin")
    country = _address_fields(problems, raw, target, ("AddressLine1", "Town", "Postcode"))
    if country and country != "GB":
        problems.add(
            "Unsupported",
            f"{target}.Country.IsoCode.TwoLetterCode",
            f"The sandbox ships from GB only (got {country}).",
        )
    return Address(_address_wire(raw, "Origin", country or "GB"))


# The UK's postcode areas: a carrier refuses a well-formed postcode in an area that does
# not exist (e.g. "ZZ1 1ZZ"), which is how agents meet a field-level refusal in practice.
UK_POSTCODE_AREAS = frozenset(
    (  # noqa: SIM905 - a table reads better as text
        "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN "
        "DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY "
        "L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM "
        "S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN "
        "WR WS WV YO ZE GIR"
    ).split()
)


def _destination(
    problems: _Problems,
    raw: dict[str, Any],
    index: int,
    address_type: str = "Destination",
    required: tuple[str, ...] = ("Postcode",),
) -> Address:
    """The customer's address: a shipment's Destination, or a return's Origin."""
    country = _address_fields(problems, raw, f"Addresses[{index}]", required)
    postcode = str(raw.get("Postcode") or "").strip().upper()
    area = "".join(ch for ch in postcode[:2] if ch.isalpha()) if postcode else ""
    if country == "GB" and area and area not in UK_POSTCODE_AREAS:
        problems.add(
            "UnknownPostcode",
            f"Addresses[{index}].Postcode",
            f"{postcode} is not in a UK postcode area we deliver to.",
        )
    return Address(_address_wire(raw, address_type, country or "GB"))


def _address_fields(
    problems: _Problems, raw: dict[str, Any], target: str, required: tuple[str, ...]
) -> str:
    for name in required:
        if not str(raw.get(name) or "").strip():
            problems.add("Required", f"{target}.{name}", f"{target}.{name} is required.")
    country = _country_code(raw.get("Country"))
    country_target = f"{target}.Country.IsoCode.TwoLetterCode"
    if not country:
        problems.add("Required", country_target, f"{country_target} is required.")
    elif len(country) != 2 or not country.isalpha():
        problems.add("Invalid", country_target, f"{country!r} is not an ISO 3166 alpha-2 code.")
        return ""
    return country


def _return_destination(problems: _Problems, raw: dict[str, Any], index: int) -> Address:
    """Where a return goes: GUESS, the sandbox insists on a ShippingLocationReference ("a
    destination for inbound consignments", Sorted's glossary)."""
    if raw.get("ShippingLocationReference"):
        return _at_location(problems, raw, index, "Destination")
    problems.add(
        "Required",
        f"Addresses[{index}].ShippingLocationReference",
        "An Inbound consignment's Destination needs the ShippingLocationReference the "
        "return goes back to.",
    )
    return Address(_address_wire(raw, "Destination", _country_code(raw.get("Country")) or "GB"))


def _addresses(
    problems: _Problems, raw: Any, *, inbound: bool = False
) -> tuple[Address, Address] | None:
    if not isinstance(raw, list) or not raw:
        problems.add("Required", "Addresses", "Addresses needs an Origin and a Destination.")
        return None
    origin = destination = None
    for index, entry in enumerate(raw):
        target = f"Addresses[{index}]"
        address = _object(problems, entry, target)
        if address is None:
            continue
        kind = str(address.get("AddressType") or "").lower()
        if kind == "origin" and origin is None and inbound:
            required = ("AddressLine1", "Town", "Postcode")
            origin = _destination(problems, address, index, "Origin", required)
        elif kind == "origin" and origin is None:
            origin = _origin(problems, address, index)
        elif kind == "destination" and destination is None and inbound:
            destination = _return_destination(problems, address, index)
        elif kind == "destination" and destination is None:
            destination = _destination(problems, address, index)
    for name, found in (("Origin", origin), ("Destination", destination)):
        if found is None:
            problems.add("Required", "Addresses", f"An address with AddressType {name} is needed.")
    if origin is None or destination is None:
        return None
    return origin, destination


def parse_address(body: dict[str, Any]) -> Address:
    """One address (Update Consignment Address), its AddressType saying which."""
    problems = _Problems()
    kind = str(body.get("AddressType") or "Destination").lower()
    parse = _origin if kind == "origin" else _destination
    address = parse(problems, body, 0)
    problems.raise_if_any()
    return address


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_create(body: dict[str, Any]) -> NewConsignment:
    """The Create Consignment request, or ApiProblem 400 naming every bad field."""
    problems = _Problems()
    raw_packages = body.get("Packages")
    packages: list[Package | None] = []
    if not isinstance(raw_packages, list) or not raw_packages:
        problems.add("Required", "Packages", "At least one package is required.")
    else:
        packages = [_package(problems, raw, n) for n, raw in enumerate(raw_packages)]
    direction = str(body.get("Direction") or "Outbound").strip()
    if direction.lower() not in ("outbound", "inbound"):
        problems.add("Invalid", "Direction", f"Direction {direction!r} is not Outbound or Inbound.")
    direction = "Inbound" if direction.lower() == "inbound" else "Outbound"
    addresses = _addresses(problems, body.get("Addresses"), inbound=direction == "Inbound")
    shipping_date = None
    if body.get("ShippingDate") is not None:
        shipping_date = parse_date(body["ShippingDate"])
        if shipping_date is None:
            problems.add("Invalid", "ShippingDate", "ShippingDate must be an ISO 8601 date.")
    customs = body.get("CustomsDocumentation")
    if customs is not None and not isinstance(customs, dict):
        problems.add("Invalid", "CustomsDocumentation", "CustomsDocumentation must be an object.")
        customs = None
    if customs is not None:
        _customs(problems, customs)
    problems.raise_if_any()
    assert addresses is not None  # raise_if_any() refused a missing pair
    origin, destination = addresses
    return NewConsignment(
        customer_reference=str(body.get("ConsignmentReferenceProvidedByCustomer") or ""),
        source=str(body.get("Source") or "Api"),
        direction=direction,
        shipping_date=shipping_date,
        origin=origin,
        destination=destination,
        packages=tuple(p for p in packages if p is not None),
        customs=customs,
        metadata=list(body.get("MetaData") or []),
        tags=list(body.get("Tags") or []),
        requested_delivery=body.get("RequiredDeliveryDate", body.get("RequestedDeliveryDate")),
    )


def _customs(problems: _Problems, customs: dict[str, Any]) -> None:
    """CategoryType must be one of the enum's values (a sale is SaleOfGoods, not Sale)."""
    category = customs.get("CategoryType")
    if category is None:
        return
    if not isinstance(category, str) or _category(category) is None:
        target = "CustomsDocumentation.CategoryType"
        problems.add(
            "Invalid",
            target,
            f"{target} {category!r} is not one of {', '.join(CATEGORY_TYPES)}.",
        )


MANIFESTABLE_STATES = ("Allocated", "ManifestFailed", "ReadyToShip")


@dataclass(frozen=True)
class ManifestQuery:
    states: tuple[str, ...]
    shipping_locations: tuple[str, ...] | None
    carriers: tuple[str, ...] | None
    labels_printed: bool | None
    shipping_date: date | None
    date_range: tuple[date | None, date | None] | None


def _strings(problems: _Problems, body: dict[str, Any], name: str) -> tuple[str, ...] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add("Invalid", name, f"{name} must be a list of strings.")
        return None
    return tuple(value)


def parse_manifest_query(body: dict[str, Any]) -> ManifestQuery:
    """Manifest From Query's body; States is required and may only name manifestable states."""
    problems = _Problems()
    states = _strings(problems, body, "States")
    if not states and not problems.details:
        problems.add("Required", "States", 'States is required (e.g. ["Allocated"]).')
    locations = _strings(problems, body, "ShippingLocationReferences")
    if body.get("ShippingLocationReference"):  # the older docs' singular spelling
        locations = (*(locations or ()), str(body["ShippingLocationReference"]))
    carriers = _strings(problems, body, "Carriers")
    labels_printed = body.get("LabelsPrinted")
    if labels_printed is not None and not isinstance(labels_printed, bool):
        problems.add("Invalid", "LabelsPrinted", "LabelsPrinted must be true, false or null.")
        labels_printed = None
    shipping_date = parse_date(body.get("ShippingDate"))
    if body.get("ShippingDate") is not None and shipping_date is None:
        problems.add("Invalid", "ShippingDate", "ShippingDate must be an ISO 8601 date.")
    date_range = None
    ranges = body.get("ShippingDateRanges")
    if isinstance(ranges, dict):
        date_range = (parse_date(ranges.get("StartDate")), parse_date(ranges.get("EndDate")))
    problems.raise_if_any()
    assert states is not None
    canonical = {state.lower(): state for state in MANIFESTABLE_STATES}
    wanted: list[str] = []
    wrong: list[Detail] = []
    for n, state in enumerate(states):
        known = canonical.get(state.replace(" ", "").lower())
        if known is not None:
            wanted.append(known)
            continue
        wrong.append(
            Detail(
                "InvalidState",
                f"States[{n}]",
                f"Consignments in state {state!r} cannot be manifested "
                f"(only {', '.join(MANIFESTABLE_STATES)}).",
            )
        )
    if wrong:
        raise ApiProblem(400, "InvalidState", wrong[0].message, wrong)
    for location in locations or ():
        if location not in SHIPPING_LOCATIONS:
            raise ApiProblem(
                400,
                "UnknownShippingLocation",
                f"Shipping location {location!r} is not known to the sandbox.",
                [Detail("UnknownShippingLocation", "ShippingLocationReferences", location)],
            )
    return ManifestQuery(
        states=tuple(wanted),
        shipping_locations=locations,
        carriers=carriers,
        labels_printed=labels_printed,
        shipping_date=shipping_date,
        date_range=date_range,
    )
