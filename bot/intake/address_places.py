"""Places in address text: UK postcodes and counties, country names, postcodes abroad.

The recognisers bot/intake/address.py anchors an address on; pure and offline like it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blocks.countries import COUNTRIES


def tidy(text: str) -> str:
    return " ".join(text.split()).strip(" ,;")


UK_POSTCODE_IN = re.compile(
    r"(?<![A-Za-z0-9])(GIR\s*0AA|[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2})(?![A-Za-z0-9])"
)

# UK counties and nations people still write under the town; dropped, the form has no field.
COUNTIES = frozenset(
    name.casefold()
    for name in (
        "Avon", "Bedfordshire", "Berkshire", "Buckinghamshire", "Cambridgeshire", "Cheshire",
        "Cornwall", "Cumbria", "Derbyshire", "Devon", "Dorset", "Durham", "County Durham",
        "East Sussex", "Essex", "Gloucestershire", "Greater London", "Greater Manchester",
        "Hampshire", "Herefordshire", "Hertfordshire", "Herts", "Kent", "Lancashire",
        "Leicestershire", "Lincolnshire", "Merseyside", "Middlesex", "Norfolk",
        "North Yorkshire", "Northamptonshire", "Northumberland", "Nottinghamshire", "Notts",
        "Oxfordshire", "Oxon", "Rutland", "Shropshire", "Somerset", "South Yorkshire",
        "Staffordshire", "Staffs", "Suffolk", "Surrey", "Tyne and Wear", "Warwickshire",
        "West Midlands", "West Sussex", "West Yorkshire", "Wiltshire", "Worcestershire",
        "East Yorkshire", "Isle of Wight", "Lanarkshire", "Fife", "Midlothian",
        "Aberdeenshire", "Highland", "Gwynedd", "Powys", "Glamorgan", "Co Antrim",
        "County Antrim", "Co Down", "County Down",
    )
)  # fmt: skip


# --- countries ------------------------------------------------------------------------------


def _country_names() -> dict[str, str]:
    """casefolded name -> code: every ISO short name, its bracketed alias, and common ones."""
    names: dict[str, str] = {}
    for code, name in COUNTRIES:
        names[name.casefold()] = code
        if "(" in name:
            outside, _, inside = name.partition("(")
            names[outside.strip().casefold()] = code
            names[inside.rstrip(")").strip().casefold()] = code
    aliases = {
        "GB": "uk|u.k.|united kingdom|great britain|britain|england|scotland|wales|"
        "northern ireland|gb",
        "US": "usa|u.s.a.|us|u.s.|united states|united states of america|america",
        "NL": "holland|the netherlands|nederland",
        "DE": "deutschland|germany",
        "IE": "republic of ireland|eire|éire|ireland",
        "ES": "españa|espana|spain",
        "IT": "italia|italy",
        "FR": "france",
        "CH": "schweiz|suisse|svizzera|switzerland",
        "AT": "österreich|osterreich|austria",
        "BE": "belgië|belgie|belgique|belgium",
        "DK": "danmark|denmark",
        "SE": "sverige|sweden",
        "NO": "norge|norway",
        "PL": "polska|poland",
        "PT": "portugal",
        "AE": "uae|u.a.e.|united arab emirates",
        "KR": "south korea|korea",
        "CZ": "czech republic|czechia",
    }
    for code, spellings in aliases.items():
        for spelling in spellings.split("|"):
            names[spelling] = code
    return names


COUNTRY_NAMES = _country_names()
COUNTRY_AT_END = re.compile(
    r"(?:^|[\s,])(?P<country>"
    + "|".join(re.escape(name) for name in sorted(COUNTRY_NAMES, key=len, reverse=True))
    + r")\.?$",
    re.IGNORECASE,
)
# Crown Dependencies use UK-format postcodes but are their own destinations.
_POSTCODE_COUNTRY = {"JE": "JE", "GY": "GG", "IM": "IM"}
UK_CODES = frozenset({"GB", "JE", "GG", "IM"})


def uk_postcode_country(postcode: str) -> str:
    """GB, or the Crown Dependency a UK-format postcode belongs to (JE, GY -> GG, IM)."""
    return _POSTCODE_COUNTRY.get(postcode[:2].upper(), "GB")


def country_of(text: str) -> str | None:
    return COUNTRY_NAMES.get(text.strip().strip(".").casefold())


# --- postcodes abroad -----------------------------------------------------------------------

_US = re.compile(
    r"^(?:(?P<town>.*?)[,\s]+)?(?P<region>[A-Z]{2})\.?\s+(?P<postcode>\d{5}(?:-\d{4})?)$"
)
_CA = re.compile(
    r"^(?:(?P<town>.*?)[,\s]+)?(?P<region>[A-Z]{2})\.?\s+(?P<postcode>[A-Za-z]\d[A-Za-z]\s?\d[A-Za-z]\d)$"
)
_AU = re.compile(
    r"^(?:(?P<town>.*?)[,\s]+)?(?P<region>NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+(?P<postcode>\d{4})$",
    re.IGNORECASE,
)
_EIRCODE = re.compile(
    r"(?<![A-Za-z0-9])(?P<postcode>(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s?[0-9AC-FHKNPRTV-Y]{4})"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_NL = re.compile(r"^(?P<postcode>\d{4}\s?[A-Za-z]{2})\s+(?P<town>.+)$")
_POSTCODE_FIRST = re.compile(
    r"^(?:[A-Z]{1,2}-\s?)?(?P<postcode>\d{2,3}(?:[ -]?\d{2,3})?)\s+(?P<town>\D.*)$"
)
_POSTCODE_LAST = re.compile(r"^(?P<town>\D.*?)[,\s]+(?P<postcode>\d{4,6}(?:-\d{3,4})?)$")


@dataclass(frozen=True)
class Place:
    town: str | None
    region: str | None
    postcode: str | None


def foreign_place(text: str, country: str) -> Place | None:
    """Town, region and postcode from the line above a named country, in that country's order."""
    text = text.strip(" ,")
    if country == "US":
        match = _US.match(text)
    elif country == "CA":
        match = _CA.match(text)
    elif country == "AU":
        match = _AU.match(text)
    elif country == "NL":
        nl = _NL.match(text)
        if nl:
            code = nl["postcode"].replace(" ", "").upper()
            return Place(tidy(nl["town"]), None, f"{code[:4]} {code[4:]}")
        match = None
    else:
        match = None
    if match:
        postcode = match["postcode"].upper()
        if country == "CA" and " " not in postcode:
            postcode = f"{postcode[:3]} {postcode[3:]}"
        return Place(tidy(match["town"] or ""), match["region"].upper(), postcode)
    if country == "IE":
        eircode = _EIRCODE.search(text)
        if eircode:
            code = eircode["postcode"].replace(" ", "").upper()
            town = (text[: eircode.start()] + text[eircode.end() :]).strip(" ,")
            return Place(tidy(town), None, f"{code[:3]} {code[3:]}")
        return None
    for pattern in (_POSTCODE_FIRST, _POSTCODE_LAST):
        found = pattern.match(text)
        if found:
            return Place(tidy(found["town"]), None, found["postcode"].upper())
    return None
