"""What PRO needs to make CN22/CN23 forms and invoices, beyond what the `/ship` form asks.

Sources (see docs/electio-api.md): the SDK's `Enums.CategoryType`, the PHP client's later
values, and the Brexit data guide's table for UK -> abroad. Pure data: no I/O, and nothing
here reads the environment (bot/settings.py does, and bot/runtime.py builds the profile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.models import ExportReason

# VERIFIED: the SDK's enum (None, Gift, CommercialSample, Documents, Other, ReturnedGoods),
# plus SaleOfGoods and Personal (the PHP client, 2021; the Brexit guide announces SaleOfGoods).
# "Sale" is NOT a value: the real API refuses it.
CATEGORY_TYPES: tuple[str, ...] = (
    "None",
    "Gift",
    "CommercialSample",
    "Documents",
    "Other",
    "ReturnedGoods",
    "SaleOfGoods",
    "Personal",
)
FALLBACK_CATEGORY = "Other"

# The form's reasons -> the documented enum. SHIPBOT_CUSTOMS_CATEGORIES overrides entries,
# e.g. "Sale=Other" for an account whose carriers do not take SaleOfGoods yet (the Brexit
# guide lists carriers that accept only Gift/CommercialSample/Documents/Other).
DEFAULT_CATEGORIES: Mapping[ExportReason, str] = MappingProxyType(
    {
        ExportReason.SALE: "SaleOfGoods",
        ExportReason.GIFT: "Gift",
        ExportReason.SAMPLE: "CommercialSample",
        ExportReason.RETURN: "ReturnedGoods",
        ExportReason.DOCUMENTS: "Documents",
    }
)

# Incoterms the guide names for ShippingTerms ("EXW…DDU"); DAP is what most parcel
# carriers take (DPD: DAP or DDP; Hermes maps DAP to DDU).
SHIPPING_TERMS: tuple[str, ...] = (
    "EXW",
    "FCA",
    "CPT",
    "CIP",
    "DAT",
    "DAP",
    "DPU",
    "DDP",
    "FAS",
    "FOB",
    "CFR",
    "CIF",
    "DDU",
)
DEFAULT_SHIPPING_TERMS = "DAP"

# The consignment MetaData key the Brexit guide gives for the shipper's EORI.
SHIPPERS_EORI_KEY = "ShippersEORI"


def canonical_category(value: str) -> str | None:
    """The documented spelling of `value` (any case), or None when it is not a value."""
    wanted = value.strip().lower()
    return next((name for name in CATEGORY_TYPES if name.lower() == wanted), None)


def parse_category_overrides(text: str) -> dict[ExportReason, str]:
    """`"Sale=Other, Gift=Gift"` -> {SALE: "Other", GIFT: "Gift"}; ValueError names the bad part.

    Reasons are the form's (Sale, Gift, Sample, Return, Documents); values must be
    documented CategoryTypes.
    """
    overrides: dict[ExportReason, str] = {}
    reasons = {reason.value.lower(): reason for reason in ExportReason}
    for part in text.split(","):
        if not part.strip():
            continue
        reason_text, sep, category_text = part.partition("=")
        reason = reasons.get(reason_text.strip().lower())
        if not sep or reason is None:
            raise ValueError(
                f"{part.strip()!r} is not REASON=CategoryType with REASON one of "
                f"{', '.join(r.value for r in ExportReason)}"
            )
        category = canonical_category(category_text)
        if category is None:
            raise ValueError(
                f"{category_text.strip()!r} is not a CategoryType "
                f"(one of {', '.join(CATEGORY_TYPES)})"
            )
        overrides[reason] = category
    return overrides


@dataclass(frozen=True)
class CustomsProfile:
    """The shipper's side of a customs declaration: the same for every parcel we send."""

    categories: Mapping[ExportReason, str] = field(default_factory=lambda: DEFAULT_CATEGORIES)
    shipping_terms: str = DEFAULT_SHIPPING_TERMS
    shippers_vat_number: str | None = None
    shippers_eori: str | None = None
    designated_person_responsible: str | None = None

    @classmethod
    def build(
        cls,
        *,
        overrides: Mapping[ExportReason, str] | None = None,
        shipping_terms: str | None = None,
        shippers_vat_number: str | None = None,
        shippers_eori: str | None = None,
        designated_person_responsible: str | None = None,
    ) -> CustomsProfile:
        """The default mapping with `overrides` on top; blank strings count as unset."""
        categories = dict(DEFAULT_CATEGORIES)
        categories.update(overrides or {})
        return cls(
            categories=MappingProxyType(categories),
            shipping_terms=(_blank_none(shipping_terms) or DEFAULT_SHIPPING_TERMS).upper(),
            shippers_vat_number=_blank_none(shippers_vat_number),
            shippers_eori=_blank_none(shippers_eori),
            designated_person_responsible=_blank_none(designated_person_responsible),
        )

    def category_for(self, reason: ExportReason) -> str:
        """A documented CategoryType; `Other` for anything unmapped or undocumented."""
        mapped = canonical_category(self.categories.get(reason, FALLBACK_CATEGORY))
        return mapped or FALLBACK_CATEGORY

    def unset_fields(self) -> tuple[str, ...]:
        """The Brexit-guide fields PRO will not get from us (their wire names)."""
        missing = []
        if not self.shippers_vat_number:
            missing.append("ShippersVatNumber")
        if not self.shippers_eori:
            missing.append(SHIPPERS_EORI_KEY)
        if not self.designated_person_responsible:
            missing.append("DesignatedPersonResponsible")
        return tuple(missing)


def _blank_none(value: str | None) -> str | None:
    return (value or "").strip() or None


DEFAULT_PROFILE = CustomsProfile()
