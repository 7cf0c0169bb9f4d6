"""What the sandbox sells: carriers, services, zones, prices and delivery windows.

Prices are a pure function of the parcels and the destination, so the same consignment
always gets the same quotes (tests and benchmarks compare figures across runs).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

SANDBOX_SHIPPING_LOCATION = "SHIPBOT_SANDBOX_DC"

# The one pre-configured origin the sandbox knows, in the wire's address shape.
SHIPPING_LOCATIONS: dict[str, dict[str, str]] = {
    SANDBOX_SHIPPING_LOCATION: {
        "CompanyName": "Shipbot Sandbox DC",
        "AddressLine1": "Third Floor",
        "AddressLine2": "Merchant Exchange",
        "AddressLine3": "Whitworth Street West",
        "Town": "Manchester",
        "Region": "Greater Manchester",
        "Postcode": "M1 5WG",
        "CountryCode": "GB",
    }
}

VAT_RATE = Decimal("0.20")
VAT_REFERENCE = "GB-0.2000"
PENNY = Decimal("0.01")
VOLUMETRIC_DIVISOR = Decimal(5000)
CUSTOMS_CN22_LIMIT_GBP = Decimal(270)

EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})  # fmt: skip

# ISO 3166-1: alpha-2 -> (name, alpha-3, numeric); other countries are still accepted and
# are named by their code.
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "GB": ("United Kingdom", "GBR", "826"), "IE": ("Ireland", "IRL", "372"),
    "FR": ("France", "FRA", "250"), "DE": ("Germany", "DEU", "276"),
    "ES": ("Spain", "ESP", "724"), "IT": ("Italy", "ITA", "380"),
    "NL": ("Netherlands", "NLD", "528"), "BE": ("Belgium", "BEL", "056"),
    "PT": ("Portugal", "PRT", "620"), "AT": ("Austria", "AUT", "040"),
    "DK": ("Denmark", "DNK", "208"), "SE": ("Sweden", "SWE", "752"),
    "FI": ("Finland", "FIN", "246"), "PL": ("Poland", "POL", "616"),
    "CZ": ("Czechia", "CZE", "203"), "GR": ("Greece", "GRC", "300"),
    "HU": ("Hungary", "HUN", "348"), "RO": ("Romania", "ROU", "642"),
    "BG": ("Bulgaria", "BGR", "100"), "HR": ("Croatia", "HRV", "191"),
    "SK": ("Slovakia", "SVK", "703"), "SI": ("Slovenia", "SVN", "705"),
    "LU": ("Luxembourg", "LUX", "442"), "MT": ("Malta", "MLT", "470"),
    "CY": ("Cyprus", "CYP", "196"), "EE": ("Estonia", "EST", "233"),
    "LV": ("Latvia", "LVA", "428"), "LT": ("Lithuania", "LTU", "440"),
    "US": ("United States", "USA", "840"), "CA": ("Canada", "CAN", "124"),
    "AU": ("Australia", "AUS", "036"), "NZ": ("New Zealand", "NZL", "554"),
    "JP": ("Japan", "JPN", "392"), "CN": ("China", "CHN", "156"),
    "IN": ("India", "IND", "356"), "CH": ("Switzerland", "CHE", "756"),
    "NO": ("Norway", "NOR", "578"), "IS": ("Iceland", "ISL", "352"),
    "JE": ("Jersey", "JEY", "832"), "GG": ("Guernsey", "GGY", "831"),
    "IM": ("Isle of Man", "IMN", "833"), "SG": ("Singapore", "SGP", "702"),
    "HK": ("Hong Kong", "HKG", "344"), "AE": ("United Arab Emirates", "ARE", "784"),
    "ZA": ("South Africa", "ZAF", "710"), "BR": ("Brazil", "BRA", "076"),
    "MX": ("Mexico", "MEX", "484"), "KR": ("South Korea", "KOR", "410"),
}  # fmt: skip


def country_name(code: str) -> str:
    known = COUNTRIES.get(code.upper())
    return known[0] if known else code.upper()


class Zone(StrEnum):
    UK = "UK"
    UK_REMOTE = "UK highlands and islands"
    EU = "EU"
    ROW = "rest of world"


# Postcode areas where every district is "highlands and islands"; then areas where only
# some districts are (inclusive ranges), as carriers' remote-area surcharge lists have them.
_REMOTE_AREAS = frozenset({"HS", "ZE", "KW", "IV", "BT"})
_REMOTE_DISTRICTS: dict[str, tuple[tuple[int, int], ...]] = {
    "AB": ((31, 38), (41, 56)),
    "PA": ((20, 49), (60, 78)),
    "PH": ((17, 26), (30, 44), (49, 50)),
    "KA": ((27, 28),),
    "TR": ((21, 25),),
    "PO": ((30, 41),),
}
_OUTWARD = re.compile(r"^([A-Z]{1,2})(\d{1,2})")


def is_remote_uk_postcode(postcode: str) -> bool:
    match = _OUTWARD.match(postcode.replace(" ", "").upper())
    if not match:
        return False
    area, district = match.group(1), int(match.group(2))
    if area in _REMOTE_AREAS:
        return True
    return any(low <= district <= high for low, high in _REMOTE_DISTRICTS.get(area, ()))


def zone_for(country: str, postcode: str) -> Zone:
    country = country.upper()
    if country == "GB":
        return Zone.UK_REMOTE if is_remote_uk_postcode(postcode) else Zone.UK
    return Zone.EU if country in EU_COUNTRIES else Zone.ROW


@dataclass(frozen=True)
class Carrier:
    reference: str
    name: str
    account_reference: str


@dataclass(frozen=True)
class Tariff:
    """Per parcel: `base` up to `included_kg`, then `per_extra_kg` per started kg."""

    base: Decimal
    included_kg: Decimal
    per_extra_kg: Decimal
    min_days: int
    max_days: int

    def parcel_price(self, chargeable_kg: Decimal) -> Decimal:
        extra = max(Decimal(0), chargeable_kg - self.included_kg)
        return self.base + self.per_extra_kg * math.ceil(extra)


@dataclass(frozen=True)
class Service:
    reference: str
    name: str
    carrier: Carrier
    tariffs: Mapping[Zone, Tariff]
    max_weight_kg: Decimal
    max_length_cm: Decimal
    # Per parcel, for UK highlands and islands; None: the service does not go there.
    remote_surcharge: Decimal | None = Decimal(0)
    # Quotes' ServiceDirection, a flags string as the docs show it: "Outbound", "Inbound"
    # (a returns service) or "Inbound, Outbound".
    directions: str = "Outbound"

    def carries(self, direction: str) -> bool:
        wanted = direction.strip().lower()
        return wanted in {part.strip().lower() for part in self.directions.split(",")}

    @property
    def mpd_reference(self) -> str:
        return f"MPD_{self.reference}"

    def tariff_for(self, zone: Zone) -> Tariff | None:
        if zone is Zone.UK_REMOTE:
            return None if self.remote_surcharge is None else self.tariffs.get(Zone.UK)
        return self.tariffs.get(zone)


ROYAL_MAIL = Carrier("ROYAL_MAIL", "Royal Mail", "RM1")
DPD = Carrier("DPD", "DPD", "DPD1")
EVRI = Carrier("EVRI", "Evri", "EVRI1")
DHL = Carrier("DHL", "DHL Express", "DHL1")
CARRIERS = (ROYAL_MAIL, DPD, EVRI, DHL)


def _d(value: str | int) -> Decimal:
    return Decimal(value)


SERVICES: tuple[Service, ...] = (
    Service(
        "RMT24", "Royal Mail Tracked 24", ROYAL_MAIL,
        {Zone.UK: Tariff(_d("3.85"), _d(1), _d("0.55"), 1, 1)},
        max_weight_kg=_d(20), max_length_cm=_d(61),
    ),
    Service(
        "RMT48", "Royal Mail Tracked 48", ROYAL_MAIL,
        {Zone.UK: Tariff(_d("3.10"), _d(1), _d("0.45"), 2, 3)},
        max_weight_kg=_d(20), max_length_cm=_d(61), directions="Inbound, Outbound",
    ),
    Service(
        "RMINTT", "Royal Mail International Tracked", ROYAL_MAIL,
        {
            Zone.EU: Tariff(_d("9.95"), _d("0.5"), _d("4.20"), 3, 5),
            Zone.ROW: Tariff(_d("14.50"), _d("0.5"), _d("7.80"), 5, 10),
        },
        max_weight_kg=_d(2), max_length_cm=_d(60),
    ),
    Service(
        "DPDND", "DPD Next Day", DPD,
        {Zone.UK: Tariff(_d("6.95"), _d(10), _d("0.35"), 1, 1)},
        max_weight_kg=_d(30), max_length_cm=_d(100), remote_surcharge=None,
    ),
    Service(
        "DPDCL", "DPD Classic", DPD,
        {
            Zone.UK: Tariff(_d("5.75"), _d(10), _d("0.30"), 2, 3),
            Zone.EU: Tariff(_d("12.50"), _d(5), _d("1.10"), 3, 5),
        },
        max_weight_kg=_d(30), max_length_cm=_d(100), remote_surcharge=_d("4.50"),
        directions="Inbound, Outbound",
    ),
    Service(
        "EVRISTD", "Evri Standard", EVRI,
        {Zone.UK: Tariff(_d("2.89"), _d(1), _d("0.60"), 2, 4)},
        max_weight_kg=_d(15), max_length_cm=_d(120), remote_surcharge=_d("2.00"),
    ),
    Service(
        "DHLEXWW", "DHL Express Worldwide", DHL,
        {
            Zone.EU: Tariff(_d("24.00"), _d("0.5"), _d("3.20"), 1, 2),
            Zone.ROW: Tariff(_d("38.00"), _d("0.5"), _d("5.60"), 2, 4),
        },
        max_weight_kg=_d(70), max_length_cm=_d(120), directions="Inbound, Outbound",
    ),
    # Returns only: quoted for inbound consignments (the customer sends it back).
    Service(
        "RMTR48", "Royal Mail Tracked Returns 48", ROYAL_MAIL,
        {Zone.UK: Tariff(_d("2.95"), _d(1), _d("0.45"), 2, 3)},
        max_weight_kg=_d(20), max_length_cm=_d(61), directions="Inbound",
    ),
    Service(
        "EVRIRET", "Evri Returns", EVRI,
        {Zone.UK: Tariff(_d("2.65"), _d(1), _d("0.60"), 2, 4)},
        max_weight_kg=_d(15), max_length_cm=_d(120), remote_surcharge=_d("2.00"),
        directions="Inbound",
    ),
)  # fmt: skip

REMOTE_SURCHARGE_REFERENCE = "REMOTE_AREA"


@dataclass(frozen=True)
class ParcelSize:
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal

    @property
    def volumetric_kg(self) -> Decimal:
        return self.length_cm * self.width_cm * self.height_cm / VOLUMETRIC_DIVISOR

    @property
    def chargeable_kg(self) -> Decimal:
        return max(self.weight_kg, self.volumetric_kg)

    @property
    def longest_side_cm(self) -> Decimal:
        return max(self.length_cm, self.width_cm, self.height_cm)


@dataclass(frozen=True)
class Rate:
    """Net, VAT and gross in GBP, rounded so that `net + vat == gross` exactly."""

    net: Decimal
    vat: Decimal
    gross: Decimal

    @classmethod
    def from_net(cls, net: Decimal) -> Rate:
        net = net.quantize(PENNY, rounding=ROUND_HALF_UP)
        vat = (net * VAT_RATE).quantize(PENNY, rounding=ROUND_HALF_UP)
        return cls(net=net, vat=vat, gross=net + vat)


@dataclass(frozen=True)
class Pricing:
    base: Rate
    remote_surcharge: Decimal  # net, included in `total`
    total: Rate
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Exclusion:
    available: bool
    rates: bool
    reason: str


def price(
    service: Service,
    country: str,
    postcode: str,
    parcels: Sequence[ParcelSize],
    *,
    inbound: bool = False,
) -> Pricing | Exclusion:
    """The service's price for these parcels from GB to there (`inbound`: from there back to
    GB, priced the same), or why it cannot take them."""
    zone = zone_for(country, postcode)
    tariff = service.tariff_for(zone)
    if tariff is None and zone is Zone.UK_REMOTE:
        return Exclusion(
            False,
            True,
            f"This service does not deliver to UK highlands and islands postcodes ({postcode}).",
        )
    if tariff is None:
        return Exclusion(
            False,
            True,
            "This service is not available between the selected addresses "
            f"({f'{country} to GB' if inbound else f'GB to {country}'}).",
        )
    for number, parcel in enumerate(parcels, start=1):
        if parcel.weight_kg > service.max_weight_kg:
            return Exclusion(
                False,
                True,
                f"Package {number} weighs {parcel.weight_kg.normalize():f} kg; this service "
                f"takes at most {service.max_weight_kg:f} kg per package.",
            )
        if parcel.longest_side_cm > service.max_length_cm:
            return Exclusion(
                False,
                True,
                f"Package {number} is {parcel.longest_side_cm.normalize():f} cm long; this "
                f"service takes at most {service.max_length_cm:f} cm per side.",
            )
    base_net = sum((tariff.parcel_price(parcel.chargeable_kg) for parcel in parcels), Decimal(0))
    surcharge = Decimal(0)
    days_late = 0
    if zone is Zone.UK_REMOTE and service.remote_surcharge is not None:
        surcharge = service.remote_surcharge * len(parcels)
        days_late = 1
    return Pricing(
        base=Rate.from_net(base_net),
        remote_surcharge=surcharge,
        total=Rate.from_net(base_net + surcharge),
        min_days=tariff.min_days + days_late,
        max_days=tariff.max_days + days_late,
    )


def find_service(reference: str) -> Service | None:
    return next((s for s in SERVICES if s.reference == reference), None)


def next_working_day(day: date) -> date:
    """`day` itself if it is Monday to Friday, else the Monday after."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    for _ in range(count):
        day = next_working_day(day + timedelta(days=1))
    return day
