"""Read a delivery address out of a Slack message, as well as a careful agent would.

Pure and offline: no address service, just the shapes addresses come in. The postcode (or a
country named on its own) anchors the address; the lines above it, back to a blank line or
a greeting, are name, company and street. What can't be read is left empty and named in
`missing`, so the form can say so: a wrong guess costs the agent more than an empty field.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from blocks.countries import POSTCODE_OPTIONAL
from bot.intake.address_places import (
    COUNTIES,
    COUNTRY_AT_END,
    UK_CODES,
    UK_POSTCODE_IN,
    Place,
    country_of,
    foreign_place,
    tidy,
    uk_postcode_country,
)
from bot.intake.forms import EMAIL, normalise_uk_postcode

# Words for `missing`, as an agent would say them.
NAME = "name"
STREET = "street address"
TOWN = "town"
POSTCODE = "postcode"
COUNTRY = "country"
PHONE = "phone number"


@dataclass(frozen=True)
class AddressGuess:
    """What `parse_address` could read; `missing` names the required parts it couldn't."""

    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    town: str | None = None
    region: str | None = None  # a US state, a Canadian province: not on the form (yet)
    postcode: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2; GB for a UK postcode
    email: str | None = None
    phone: str | None = None
    missing: tuple[str, ...] = ()


# --- Slack markup ---------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_EMPHASIS = re.compile(r"(?<![\w*~])([*~])(?=\S)(.+?)(?<=\S)\1(?![\w*~])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")


def _unslack(text: str) -> str:
    """Slack's wire text -> what the agent saw: links as their labels, no mentions, no *bold*."""

    def link(match: re.Match[str]) -> str:
        target, label = match[1], match[2]
        if target.startswith(("@", "#", "!")):
            return ""  # mentions, channels, @here: never part of an address
        if label:
            return label
        return target.removeprefix("mailto:").removeprefix("tel:")

    text = _LINK.sub(link, text)
    text = html.unescape(text)  # &amp; &lt; &gt; (after links, whose brackets are real)
    text = text.replace("```", "\n").replace("`", "")
    text = _EMPHASIS.sub(r"\2", text)
    return _ITALIC.sub(r"\1", text)


# --- contact details ------------------------------------------------------------------------

_PHONE_LABEL = r"(?:tel(?:ephone)?|phone|ph|mob(?:ile)?|mobile phone|cell|call|t|m|p)"
_PHONE = re.compile(
    rf"(?:\b{_PHONE_LABEL}\b\.?\s*(?:no\.?|number)?\s*[:\-–]?\s*)?"
    r"(?P<number>(?:\+|\(|\b)\d[\d ().\-]{6,22}\d)",
    re.IGNORECASE | re.ASCII,
)
_LABELLED_PHONE = re.compile(rf"\b{_PHONE_LABEL}\b", re.IGNORECASE | re.ASCII)


def _phone_in(line: str) -> tuple[str, str] | None:
    """(the number as the form takes it, the line without it); plausible phone numbers only.

    10 to 15 digits, or 7+ after a "Tel:" label, so a ZIP+4 or a house number never counts.
    """
    for match in _PHONE.finditer(line):
        number = match["number"]
        digits = sum(char.isdigit() for char in number)
        labelled = _LABELLED_PHONE.match(match[0]) is not None
        if not (10 <= digits <= 15 or (labelled and 7 <= digits <= 15)):
            continue
        if not labelled and not number.startswith(("+", "0", "(")):
            continue  # "10118 0110" or "12345 67890" are not phone numbers
        tidy = " ".join(number.replace(".", " ").split())
        return tidy, (line[: match.start()] + " " + line[match.end() :]).strip()
    return None


# --- lines that are not the address ---------------------------------------------------------

_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|good (?:morning|afternoon|evening)|morning|afternoon)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:send|ship|post|deliver|dispatch|resend|forward|address)\w*\b.*?"
    r"(?:\bto\b|\baddress\b|\bhere\b|\bbelow\b|:)",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^(?:(?:delivery |shipping |postal |my |new |the )?address|ship to|deliver to|send to|"
    r"recipient|to|name|full name|company|organisation|organization|street|postcode|post code|"
    r"zip(?: code)?|town|city|country|attn|fao|f\.a\.o\.|for the attention of|c/o)\s*[:\-–]\s*",
    re.IGNORECASE,
)
_ATTENTION = re.compile(r"^(?:attn|fao|f\.a\.o\.|for the attention of|c/o)\b\.?\s*:?\s*", re.I)
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|many thanks|thanks again|cheers|ta|regards|kind regards|best regards|"
    r"warm regards|best wishes|best|all the best|sincerely|yours sincerely|yours faithfully|"
    r"speak soon|thx)\b[\s,.!]*(?P<name>.*)$",
    re.IGNORECASE,
)
_SENT_FROM = re.compile(r"^(?:sent from my|get outlook for|sent via)\b", re.IGNORECASE)
_SIGNATURE_RULE = re.compile(r"^(?:--|__+|—)\s*$")
_CHATTER = re.compile(
    r"\b(?:please|pls|thanks|thank you|can you|could you|would you|order|parcel|replacement|"
    r"refund|arrived|damaged|missing|tracking|sorry|asap|today|tomorrow|cheers)\b|[?!]",
    re.IGNORECASE,
)


# --- what a part of an address looks like ---------------------------------------------------

_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|close|cl|drive|dr|way|place|pl|court|ct|crescent|"
    r"cres|gardens|gdns|terrace|terr|square|sq|hill|park|row|mews|walk|grove|gate|green|"
    r"parade|rise|vale|view|wharf|yard|boulevard|blvd|highway|hwy|parkway|pkwy|broadway|"
    r"embankment|quay|circus|market|approach|end|side"
)
_STREET = re.compile(
    rf"\b(?:{_STREET_WORDS})\b\.?|"
    r"\b(?:rue|avenue|boulevard|chemin|allée|allee|quai|place|impasse|calle|via|viale|"
    r"piazza|corso|rua|avenida|po box|p\.o\. box)\b|"
    r"(?:straße|strasse|str\.|weg|platz|allee|gasse|damm|ring|straat|gracht|laan|plein|kade|"
    r"singel|dijk|vej|gatan|gata|veien)\b",
    re.IGNORECASE,
)
_PREMISES = re.compile(
    r"^(?:flat|apartment|apt|unit|suite|ste|floor|building|block|room|studio|office|"
    r"house|cottage|the)\b|"
    r"\b(?:house|cottage|farm|barn|lodge|mill|manor|hall|building|buildings|court|mansions|"
    r"centre|center|estate|works|villa|tower|house|chambers|business park|industrial)\b",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"\b(?:ltd|limited|plc|llp|llc|inc|corp|co|company|gmbh|ag|sarl|sas|sa|bv|b\.v\.|nv|"
    r"srl|spa|s\.l\.|oy|ab|as|pty|group|holdings|partners|associates|& sons|trading|"
    r"studio|studios|agency|shop|store|boutique|cafe|café|restaurant|hotel|school|college|"
    r"university|hospital|clinic|surgery|council|charity|trust|foundation|dept|department|"
    r"reception|warehouse)\b\.?",
    re.IGNORECASE,
)
_HOUSE_NUMBER_ONLY = re.compile(r"^\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?$")
_NUMBERED_STREET = re.compile(
    rf"(?P<street>\b\d+[A-Za-z]?(?:[-/]\d+)?,?\s+(?:[\w'’.-]+\s+){{0,4}}?"
    rf"(?:{_STREET_WORDS})\b\.?)",
    re.IGNORECASE,
)
# --- the parser -----------------------------------------------------------------------------


@dataclass
class _Part:
    text: str
    block: int  # parts in one block were not separated by a blank line or chatter


@dataclass(frozen=True)
class _Anchor:
    """Where the address ends: parts [start, end) of the list come before the place."""

    end: int
    block: int
    place: Place
    country: str | None


def parse_address(text: str) -> AddressGuess:
    """The recipient in `text` (Slack message text, markup and all); see `AddressGuess`."""
    lines = [_tidy_line(line) for line in _sentences(_unslack(text))]
    email = next((m[0] for line in lines for m in [EMAIL.search(line)] if m), None)
    lines = [EMAIL.sub(" ", line) for line in lines]

    parts, sign_off, phones = _address_parts(lines)
    phone = phones[0] if phones else None

    anchor = _anchor(parts)
    if anchor is None:
        return _guess(email=email, phone=phone, sign_off=sign_off)
    place = anchor.place
    before = [part.text for part in parts[: anchor.end] if part.block == anchor.block]
    candidates = [*before, place.town] if place.town else before
    candidates = _split_run_ons(candidates, tail=len(candidates) == 1)
    county = None
    while candidates and candidates[-1].casefold() in COUNTIES:
        county = candidates.pop()
    town = None
    if (
        candidates
        and (not _is_street(candidates[-1]) or _DUBLIN.fullmatch(candidates[-1]))
        and (len(candidates) > 1 or place.town)
        and len(candidates[-1].split()) <= 4
    ):
        town = candidates.pop()
    name, company, street = _people_and_street(candidates)
    return _guess(
        name=name,
        company=company,
        street=street,
        town=town or county,
        region=place.region,
        postcode=place.postcode,
        country=anchor.country,
        email=email,
        phone=phone,
        sign_off=sign_off,
    )


_DUBLIN = re.compile(r"Dublin\s*\d{1,2}W?", re.IGNORECASE)  # a postal district, not a street
_AT = re.compile(r"^(?P<name>[^\d,]+?)\s+at\s+(?P<company>[^\d,]+)$")  # "Gary at Gary's Bikes"

_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])\s+(?=(?:thanks|thank you|many thanks|cheers|regards|kind regards|best|"
    r"sent from)\b)|(?<=[!?])\s+",
    re.IGNORECASE,
)
_TRAILING_CHATTER = re.compile(
    r"(?:[.!?]+|\s+(?:please|pls|thanks|thank you|asap|cheers)\b[\s.!?]*)+$", re.IGNORECASE
)


def _sentences(text: str) -> list[str]:
    """Lines, with a sign-off or a question written on the same line as the address split off."""
    return [piece for line in text.splitlines() for piece in _SENTENCE_BREAK.split(line)]


def _tidy_line(line: str) -> str:
    """One line without quote marks, bullets and "Name:"-style labels."""
    line = tidy(line)
    line = re.sub(r"^(?:>+|[•·▪◦‣\-–*]|\d+[.)])\s+", "", line)
    for _ in range(2):
        line = _LABEL.sub("", line)
    return tidy(line)


def _address_parts(lines: list[str]) -> tuple[list[_Part], str | None, list[str]]:
    """The candidate parts (comma-split lines) in blocks; the sign-off's name; phone numbers.

    Greetings, requests and chat end a block; anything after a request's colon (or its
    "to") is kept: "please send to: Jo Bloggs, 1 High St…". Numbers before a sign-off come
    first, so a colleague's signature doesn't win over the customer's number.
    """
    parts: list[_Part] = []
    phones: list[str] = []
    signature_phones: list[str] = []
    sign_off: str | None = None
    block = 0
    in_signature = False
    for line in lines:
        phone = _phone_in(line)
        if phone:
            (signature_phones if in_signature else phones).append(phone[0])
            line = tidy(phone[1])
            if not line or _LABELLED_PHONE.fullmatch(line):
                continue
        if _SENT_FROM.match(line) or _SIGNATURE_RULE.match(line):
            in_signature = True
            block += 1
            continue
        closing = _SIGN_OFF.match(line)
        if closing and len(line) < 40:
            in_signature = True
            block += 1
            tail = tidy(closing["name"])
            if tail and _looks_like_name(tail) and sign_off is None:
                sign_off = tail
            continue
        if not line:
            block += 1
            continue
        if _GREETING.match(line) or _REQUEST.search(line) or _CHATTER.search(line):
            block += 1
            line = _request_tail(line)
            if not line:
                continue
        if in_signature and sign_off is None and _looks_like_name(line):
            sign_off = line
        for piece in line.split(","):
            piece = tidy(_TRAILING_CHATTER.sub("", piece))
            if piece:
                parts.append(_Part(piece, block))
    return parts, sign_off, phones + signature_phones


def _request_tail(line: str) -> str:
    """What follows "…send it to:" (or "…send it to" with a number after it), else ""."""
    head, colon, tail = line.partition(":")
    if colon and tail.strip() and not _phone_in(head):
        return tidy(tail)
    request = _REQUEST.search(line)
    if request and request[0].lower().endswith("to"):
        tail = line[request.end() :]
        if any(char.isdigit() for char in tail) and "," in tail:
            return tidy(tail)
    return ""


def _anchor(parts: list[_Part]) -> _Anchor | None:
    """Where the address ends: a UK postcode, else a named country, else the end of the first
    block with a numbered street in it (then there is no postcode to find).
    """
    for index, part in enumerate(parts):
        match = UK_POSTCODE_IN.search(part.text)
        postcode = normalise_uk_postcode(match[1]) if match else None
        if match is None or postcode is None:
            continue
        after = part.text[match.end() :].strip(" ,.")
        if after and country_of(after) not in (None, *UK_CODES):
            continue  # a UK-looking code followed by "France" is not a UK postcode
        town = part.text[: match.start()].strip(" ,")
        place = Place(town or None, None, postcode)
        return _Anchor(index, part.block, place, uk_postcode_country(postcode))
    for index, part in enumerate(parts):
        country = country_of(part.text)
        rest = ""
        if country is None:
            match = COUNTRY_AT_END.search(part.text)
            if match is None or match.start("country") == 0:
                continue
            country = country_of(match["country"])
            rest = part.text[: match.start("country")].strip(" ,")
            if country is None or not any(char.isdigit() for char in rest):
                continue
        if country in UK_CODES:
            continue
        same_block = [p for p in parts[:index] if p.block == part.block]
        if not rest and not same_block:
            continue  # "France" alone, or in a sentence: not an address
        return _foreign_anchor(parts, index, rest, country)
    for part in parts:
        text = part.text
        if _is_street(text) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            last = max(i for i, p in enumerate(parts) if p.block == part.block)
            return _Anchor(last + 1, part.block, Place(None, None, None), None)
    return None


def _foreign_anchor(parts: list[_Part], index: int, rest: str, country: str) -> _Anchor:
    """The country is `parts[index]` (or ends it, after `rest`): read the place above it."""
    block = parts[index].block
    if rest:
        place = foreign_place(rest, country) or Place(rest, None, None)
        end = index
    else:
        end = index - 1
        place = foreign_place(parts[end].text, country) or Place(parts[end].text, None, None)
    if not place.town and end > 0 and parts[end - 1].block == block:
        # "New York, NY 10118": the town is the part before the state and ZIP.
        end -= 1
        place = Place(parts[end].text, place.region, place.postcode)
    return _Anchor(end, block, place, country)


def _split_run_ons(parts: list[str], *, tail: bool) -> list[str]:
    """ "Jane Smith 10 Downing Street, …" (no comma after the name) -> name, street; with
    `tail` (the whole address on one line), what follows the street is split off too.
    """
    out: list[str] = []
    for part in parts:
        match = _NUMBERED_STREET.search(part)
        if match is None:
            out.append(part)
            continue
        head = part[: match.start()].strip(" ,")
        rest = part[match.end() :].strip(" ,") if tail else ""
        if head and (_PREMISES.match(head) or any(char.isdigit() for char in head)):
            head, rest = "", ""  # "Flat 3 12 High Street" is one line
        if not head and not rest:
            out.append(part)
            continue
        street = part[match.start() : match.end() if tail else len(part)].strip(" ,")
        out.extend(piece for piece in (head, street, rest) if piece)
    return [tidy(part) for part in out if tidy(part)]


def _people_and_street(parts: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Leading parts without a street are who (name, company); the rest is the street."""
    merged: list[str] = []
    for part in parts:
        if merged and _HOUSE_NUMBER_ONLY.match(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"  # "12, High Street"
        else:
            merged.append(part)
    first_street = next(
        (i for i, part in enumerate(merged) if _is_street(part) or _PREMISES.search(part)),
        len(merged),
    )
    has_street = first_street < len(merged)
    name: str | None = None
    company: str | None = None
    street: list[str] = []
    for part in merged[:first_street]:
        attention = _ATTENTION.match(part)
        if attention:
            part = part[attention.end() :]
            if name is None:
                name = part
                continue
        at = _AT.match(part)
        if at and name is None and company is None and _looks_like_name(at["name"]):
            name, company = at["name"], at["company"]
        elif _COMPANY.search(part) and company is None:
            company = part
        elif name is None and _looks_like_name(part):
            name = part
        elif company is None and name is not None and has_street:
            company = part
        else:
            street.append(part)
    street += merged[first_street:]
    return name, company, street


def _is_street(text: str) -> bool:
    saintless = re.sub(r"^St\.?\s+(?=[A-Z])", "", text)  # St Albans, St. Ives: Saint
    return bool(
        _STREET.search(saintless)
        or _HOUSE_NUMBER_ONLY.match(text)
        or re.match(r"^\d+[A-Za-z]?\b", text)
        or re.search(r"\b\d+[A-Za-z]?$", text)
    )


def _looks_like_name(text: str) -> bool:
    """A person, not a place or a sentence: a few words, no digits, not a street or company."""
    words = text.split()
    return (
        1 <= len(words) <= 5
        and len(text) <= 60
        and not any(char.isdigit() for char in text)
        and "@" not in text
        and not _STREET.search(text)
        and not _PREMISES.search(text)
        and not _COMPANY.search(text)
        and country_of(text) is None
        and not _CHATTER.search(text)
    )


def _guess(
    *,
    name: str | None = None,
    company: str | None = None,
    street: list[str] | None = None,
    town: str | None = None,
    region: str | None = None,
    postcode: str | None = None,
    country: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    sign_off: str | None = None,
) -> AddressGuess:
    lines = list(street or [])
    if len(lines) > 3:
        lines = [*lines[:2], ", ".join(lines[2:])]
    lines += [""] * (3 - len(lines))
    if name is None and sign_off and (street or postcode):
        name = sign_off  # "…LS1 4DY. Thanks, Jane Doe": the customer signs their own address
    missing = [
        label
        for label, value in (
            (NAME, name),
            (STREET, lines[0]),
            (TOWN, town),
        )
        if not value
    ]
    if not postcode and country not in POSTCODE_OPTIONAL:
        missing.append(POSTCODE)
    if country is None:
        missing.append(COUNTRY)
    if not phone:
        missing.append(PHONE)
    return AddressGuess(
        name=name,
        company=company,
        line1=lines[0] or None,
        line2=lines[1] or None,
        line3=lines[2] or None,
        town=town,
        region=region,
        postcode=postcode,
        country=country,
        email=email,
        phone=phone,
        missing=tuple(missing),
    )
