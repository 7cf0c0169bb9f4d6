"""The sandbox's refusals: Sorted's ApiError shape with our own stable `Code` strings.

Sorted documents the error *shape* (`Code`, `Message`, `CorrelationId`, `Details[]`) but not
its code strings, so these are ours. They never change meaning, so tests, the README
and a client can rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR_CODES: dict[str, str] = {
    "ValidationError": "400: the request body is missing or has invalid fields; Details name them.",
    "MalformedBody": "400: the request body is not a JSON object.",
    "UnknownShippingLocation": "400: a ShippingLocationReference the sandbox does not know.",
    "ConsignmentNotFound": "404: no consignment has this reference.",
    "QuoteNotFound": "404: no quote has this reference.",
    "QuoteExpired": "400: the quote is past its ExpiryDate; get quotes again.",
    "QuoteNotForConsignment": "400: the quote was given for a different consignment.",
    "AlreadyAllocated": "400: the consignment is already allocated; deallocate it first.",
    "NotAllocated": "400: the consignment is not allocated, so it cannot be deallocated.",
    "LabelNotFound": "404: no labels: the consignment is not allocated (or was cancelled).",
    "InvalidState": "400: the consignment's state does not allow this (or a query names a state "
    "that cannot be manifested).",
    "UnsupportedLabelFormat": "400: label format is not PDF, ZPL or ZPLII (PNG is refused: the "
    "current docs no longer list it, and the SDK says Get Consignment Labels does not support "
    "it).",
    "PackageNotFound": "404: the consignment has no package with this reference.",
    "CustomsDocumentsNotFound": "404: no customs documents: the consignment is not allocated "
    "(or was cancelled).",
    "InjectedFault": "any status: a fault armed with POST /__sandbox/faults.",
    "InternalError": "500: a bug in the sandbox itself; the message says what failed.",
}


@dataclass(frozen=True)
class Detail:
    """One `Details[]` entry; `target` is the field path, e.g. `Packages[0].Weight.Value`."""

    code: str
    target: str
    message: str


@dataclass
class ApiProblem(Exception):
    """Raised by the state and validation code; the app turns it into the ApiError body."""

    status: int
    code: str
    message: str
    details: list[Detail] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"undeclared sandbox error code {self.code!r}")

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def not_found(what: str, reference: str) -> ApiProblem:
    return ApiProblem(404, f"{what}NotFound", f"{what} {reference} not found")
