"""parse_address: real-looking Slack messages in, the recipient (and what's missing) out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from bot.intake.address import AddressGuess, parse_address

# One address, written both with and without commas.
JANE_SMITH: dict[str, Any] = {
    "name": "Jane Smith",
    "line1": "10 Downing Street",
    "town": "London",
    "postcode": "SW1A 2AA",
    "country": "GB",
    "missing": ("phone number",),
}

# (id, message text as Slack sends it, expected fields; unlisted fields must be None/empty)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "uk one line with commas",
        "Jane Smith, 10 Downing Street, London, SW1A 2AA",
        JANE_SMITH,
    ),
    (
        "uk one line without commas",
        "Jane Smith 10 Downing Street London sw1a2aa",
        JANE_SMITH,
    ),
    (
        "uk lines inside an email with greeting, signature and iPhone footer",
        "Hi team,\n\nCould you please send a replacement to:\n\nMrs Jane Doe\n42 Acacia Avenue\n"
        "Reading\nrg1   1aa\n07700 900 123\n<mailto:jane.doe@example.com|jane.doe@example.com>"
        "\n\nThanks,\nJo\nCustomer Service | Acme\n<tel:01184960000|0118 496 0000>\n"
        "Sent from my iPhone",
        {
            "name": "Mrs Jane Doe",
            "line1": "42 Acacia Avenue",
            "town": "Reading",
            "postcode": "RG1 1AA",
            "country": "GB",
            "email": "jane.doe@example.com",
            "phone": "07700 900 123",
        },
    ),
    (
        "company, attention line, county, UK and a tel link",
        "*Ship to:* Acme Widgets Ltd, Attn: Raj Patel, Unit 4, Riverside Industrial Estate, "
        "Leeds, West Yorkshire LS1 4DY, UK. Tel <tel:+441134960000|0113 496 0000>",
        {
            "name": "Raj Patel",
            "company": "Acme Widgets Ltd",
            "line1": "Unit 4",
            "line2": "Riverside Industrial Estate",
            "town": "Leeds",
            "postcode": "LS1 4DY",
            "country": "GB",
            "phone": "0113 496 0000",
        },
    ),
    (
        "company line on its own, &amp; escape, labelled phone",
        "Tom Baker\nBaker &amp; Sons Ltd\n221 Baker Street\nLondon\nNW1 6XE\nMob: 07700-900-456",
        {
            "name": "Tom Baker",
            "company": "Baker & Sons Ltd",
            "line1": "221 Baker Street",
            "town": "London",
            "postcode": "NW1 6XE",
            "country": "GB",
            "phone": "07700-900-456",
        },
    ),
    (
        "labelled fields from a web form",
        "Name: Priya Shah\nAddress: 22 Baker St, Flat 2\nCity: Manchester\nPostcode: M1 1AE\n"
        "Phone: 0161 496 0018\nEmail: <mailto:priya@example.org|priya@example.org>",
        {
            "name": "Priya Shah",
            "line1": "22 Baker St",
            "line2": "Flat 2",
            "town": "Manchester",
            "postcode": "M1 1AE",
            "country": "GB",
            "email": "priya@example.org",
            "phone": "0161 496 0018",
        },
    ),
    (
        "house name and village, county dropped",
        "Rose Cottage, Little Snoring, Fakenham, Norfolk, NR21 0AA",
        {
            "line1": "Rose Cottage",
            "line2": "Little Snoring",
            "town": "Fakenham",
            "postcode": "NR21 0AA",
            "country": "GB",
            "missing": ("name", "phone number"),
        },
    ),
    (
        "flat in Scotland, nation after the postcode",
        "> Ailsa Brown\n> Flat 3, 12 High Street\n> Edinburgh EH1 1YZ\n> Scotland",
        {
            "name": "Ailsa Brown",
            "line1": "Flat 3",
            "line2": "12 High Street",
            "town": "Edinburgh",
            "postcode": "EH1 1YZ",
            "country": "GB",
            "missing": ("phone number",),
        },
    ),
    (
        "Jersey postcode is Jersey",
        "Hi <@U0AGENT01>, send to Luc Renouf, 5 Royal Square, St Helier JE2 3AB please",
        {
            "name": "Luc Renouf",
            "line1": "5 Royal Square",
            "town": "St Helier",
            "postcode": "JE2 3AB",
            "country": "JE",
            "missing": ("phone number",),
        },
    ),
    (
        "request, address and sign-off on one line; sign-off name not used when named",
        "Please post to Gary at Gary's Bikes, 3 Mill Road, Cambridge CB1 2AD. "
        "Thanks, Gary Oldman 07700900456",
        {
            "name": "Gary",
            "company": "Gary's Bikes",
            "line1": "3 Mill Road",
            "town": "Cambridge",
            "postcode": "CB1 2AD",
            "country": "GB",
            "phone": "07700900456",
        },
    ),
    (
        "customer signs their own address",
        "My parcel never arrived, can you resend?\n\n14 Elm Grove\nBristol BS1 4ST\n\n"
        "Kind regards,\nHannah Lewis\n07700 900 789",
        {
            "name": "Hannah Lewis",
            "line1": "14 Elm Grove",
            "town": "Bristol",
            "postcode": "BS1 4ST",
            "country": "GB",
            "phone": "07700 900 789",
        },
    ),
    (
        "no postcode: said, not guessed",
        "Can you resend the order to Tom Jones, 5 Market Street, Bath please? Thanks!",
        {
            "name": "Tom Jones",
            "line1": "5 Market Street",
            "town": "Bath",
            "missing": ("postcode", "country", "phone number"),
        },
    ),
    (
        "France on one line",
        "12 Rue de Rivoli, 75001 Paris, France",
        {
            "line1": "12 Rue de Rivoli",
            "town": "Paris",
            "postcode": "75001",
            "country": "FR",
            "missing": ("name", "phone number"),
        },
    ),
    (
        "Germany with company and international phone",
        "Max Mustermann\nMusterfirma GmbH\nUnter den Linden 77\n10117 Berlin\nGermany\n"
        "+49 30 1234567",
        {
            "name": "Max Mustermann",
            "company": "Musterfirma GmbH",
            "line1": "Unter den Linden 77",
            "town": "Berlin",
            "postcode": "10117",
            "country": "DE",
            "phone": "+49 30 1234567",
        },
    ),
    (
        "Ireland with an Eircode",
        "Siobhan Murphy, 14 Baggot Street Lower, Dublin 2, d02x285, Ireland",
        {
            "name": "Siobhan Murphy",
            "line1": "14 Baggot Street Lower",
            "town": "Dublin 2",
            "postcode": "D02 X285",
            "country": "IE",
            "missing": ("phone number",),
        },
    ),
    (
        "Netherlands",
        "J. de Vries\nKeizersgracht 123\n1015cj Amsterdam\nThe Netherlands\nj.devries@example.nl",
        {
            "name": "J. de Vries",
            "line1": "Keizersgracht 123",
            "town": "Amsterdam",
            "postcode": "1015 CJ",
            "country": "NL",
            "email": "j.devries@example.nl",
            "missing": ("phone number",),
        },
    ),
    (
        "USA with state and ZIP+4",
        "John Appleseed\n350 Fifth Avenue, Floor 42\nNew York, NY 10118-0110\nUSA\n(212) 555-0100",
        {
            "name": "John Appleseed",
            "line1": "350 Fifth Avenue",
            "line2": "Floor 42",
            "town": "New York",
            "region": "NY",
            "postcode": "10118-0110",
            "country": "US",
            "phone": "(212) 555-0100",
        },
    ),
    (
        "a postcode alone",
        "SW1A 2AA",
        {
            "postcode": "SW1A 2AA",
            "country": "GB",
            "missing": ("name", "street address", "town", "phone number"),
        },
    ),
    (
        "no address at all",
        "hey, customer says the parcel never arrived :( sorry <https://example.com/t/1|tracking>",
        {"missing": ("name", "street address", "town", "postcode", "country", "phone number")},
    ),
]

FIELDS = tuple(field for field in AddressGuess.__dataclass_fields__ if field != "missing")


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_address(text: str, expected: dict[str, Any]) -> None:
    guess = parse_address(text)
    wanted = {field: expected.get(field) for field in FIELDS}
    wanted["missing"] = expected.get("missing", ())
    assert asdict(guess) == wanted


def test_there_are_enough_real_looking_cases() -> None:
    assert len(CASES) >= 15
    assert sum(bool(expected.get("missing")) for _, _, expected in CASES) >= 5
    assert {expected.get("country") for _, _, expected in CASES} >= {
        "GB",
        "FR",
        "DE",
        "IE",
        "NL",
        "US",
    }


@pytest.mark.parametrize(
    "text",
    ["", " \n\n ", "<!here>", "ok", "12345", "France", "x" * 20_000, "\x00\u202e", "::::,,,,"],
)
def test_junk_never_raises(text: str) -> None:
    guess = parse_address(text)
    assert isinstance(guess, AddressGuess)
    assert "street address" in guess.missing


def test_slack_markup_is_read_as_the_agent_saw_it() -> None:
    guess = parse_address(
        "_Ship to_: *Ana López*, <https://maps.example/x|12 Calle Mayor>, "
        "28013 Madrid, Spain <tel:+34911234567|+34 911 234 567>"
    )
    assert (guess.name, guess.line1, guess.town, guess.postcode, guess.country) == (
        "Ana López",
        "12 Calle Mayor",
        "Madrid",
        "28013",
        "ES",
    )
    assert guess.phone == "+34 911 234 567"
