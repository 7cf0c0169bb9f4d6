"""Which quotes a return may offer: only services the carrier says carry returns.

Pure (no I/O), so the flow engine can use it without importing the return feature.
"""

from __future__ import annotations

from bot.models import ConsignmentRecord, QuoteSet, UnqualifiedService

NOT_A_RETURN_SERVICE = "Not a returns service (the carrier's ServiceDirection is Outbound only)."
NO_RETURN_SERVICE = (
    "No carrier offers a return for this parcel{why}. Check the parcels' weight and size and "
    "the customer's address, then press Return label on {original} again (or send the "
    "customer the address to post it to)."
)


def no_return_service(c: ConsignmentRecord, reasons: str) -> str:
    """A return nobody carries: the way out is the original's Return label, not `/ship`."""
    why = f" ({reasons})" if reasons else ""
    return NO_RETURN_SERVICE.format(why=why, original=c.returns_reference or "the consignment")


def return_services_only(quote_set: QuoteSet) -> QuoteSet:
    """The quotes whose ServiceDirection has Inbound; the others are listed as unavailable.

    GUESS: whether Sorted PRO quotes an inbound consignment only inbound-capable services is
    not documented, so we filter on ServiceDirection as well. A quote that does not say its
    direction (`inbound is None`) is kept: PRO quoted it for this inbound consignment, and
    every documented quote carries the field.
    """
    kept = tuple(q for q in quote_set.quotes if q.inbound is not False)
    dropped = tuple(
        UnqualifiedService(
            service_name=q.service_name, carrier_code=q.carrier_code, reason=NOT_A_RETURN_SERVICE
        )
        for q in quote_set.quotes
        if q.inbound is False
    )
    if not dropped:
        return quote_set
    return quote_set.model_copy(
        update={"quotes": kept, "unqualified": (*quote_set.unqualified, *dropped)}
    )
