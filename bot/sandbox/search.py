"""Search Consignments' filters, as the sandbox reads them from the query string.

Query names are matched case-insensitively: Sorted's documents spell them three ways
(`postCode`, the SDK's `postcode`, the help page's `State`), all documented as working.
Dates may be `yyyy-MM-dd` (what the SDK sends) or ISO date-times. Unknown names are ignored
(GUESS: PRO ignores what it does not bind). Paging is the path's `{take}/{skip}` only: the
docs' writer could not get `pageSize`/`startPage` to work, so they are ignored here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from bot.sandbox.state import ConsignmentView
from bot.sandbox.validation import parse_date

Matcher = Callable[[ConsignmentView], bool]


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def _tracking(view: ConsignmentView) -> set[str]:
    return {t.upper() for t in view.allocation.tracking} if view.allocation else set()


def _text_filters(value: str) -> dict[str, Matcher]:
    wanted = value.strip().upper()
    postcode = _squash(value)
    return {
        # GUESS: exact (case-insensitive) match; partial matching is undocumented.
        "referenceprovidedbycustomer": lambda v: v.request.customer_reference.upper() == wanted,
        "reference": lambda v: v.reference == wanted,
        "consignmentnumber": lambda v: v.reference == wanted,
        "trackingreference": lambda v: wanted in _tracking(v),
        "state": lambda v: v.state.upper() == wanted.replace(" ", ""),
        "source": lambda v: v.request.source.upper() == wanted,
        "postcode": lambda v: (
            postcode
            in {_squash(v.request.destination.postcode), _squash(v.request.origin.postcode)}
        ),
        "destinationcountrycode": lambda v: v.request.destination.country.upper() == wanted,
        "carrierservice": lambda v: (
            v.allocation is not None
            and wanted
            in {v.allocation.service.mpd_reference.upper(), v.allocation.service.reference}
        ),
        "searchterm": lambda v: (
            wanted
            in " ".join(
                [
                    v.reference,
                    v.request.customer_reference.upper(),
                    v.request.destination.person.upper(),
                    _squash(v.request.destination.postcode),
                    *_tracking(v),
                ]
            )
        ),
    }


def _date_filters(value: str) -> dict[str, Matcher]:
    day = parse_date(value) or parse_date(f"{value}T00:00:00")
    if day is None:
        return {}

    def created(v: ConsignmentView) -> date:
        return v.created.date()

    return {
        "createddatefrom": lambda v: created(v) >= day,
        "startfrom": lambda v: created(v) >= day,
        "createddateto": lambda v: created(v) <= day,
        "endat": lambda v: created(v) <= day,
    }


def matcher(query: Mapping[str, str]) -> Matcher:
    """One predicate for every filter given (all must hold)."""
    checks: list[Matcher] = []
    for raw_name, value in query.items():
        if not value:
            continue  # the SDK omits empty values; an empty one filters nothing
        name = raw_name.lower()
        found = _text_filters(value).get(name) or _date_filters(value).get(name)
        if found is not None:
            checks.append(found)
    return lambda view: all(check(view) for check in checks)
