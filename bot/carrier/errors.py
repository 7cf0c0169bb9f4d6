"""Typed carrier errors: what went wrong, and whether it may have taken effect."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    """One of the API's `Details[]`: `Target` names the offending field."""

    code: str | None
    target: str | None
    message: str | None


@dataclass
class CarrierError(Exception):
    """Base: carries what the API said, for messages and the audit log."""

    message: str
    status: int | None = None
    code: str | None = None
    correlation_id: str | None = None
    details: tuple[ErrorDetail, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        if self.correlation_id:
            parts.append(f"correlation {self.correlation_id}")
        return " · ".join(parts)


class Unauthorized(CarrierError):
    """401: the API key is missing or wrong (the gateway's `{statusCode, message}` body)."""


class NotFound(CarrierError):
    """404: no such consignment, quote or label."""


class InvalidRequest(CarrierError):
    """400 (or another 4xx): the API refused the request; `details` name the fields."""


@dataclass
class RateLimited(CarrierError):
    """429 after our retries ran out; `retry_after` is the gateway's last hint, in seconds."""

    retry_after: float | None = None


class CarrierUnavailable(CarrierError):
    """5xx, or the request never reached the API (refused, connect timeout): nothing happened."""


class OutcomeUnknown(CarrierError):
    """A PUT/POST whose reply was lost (read timeout, dropped connection).

    It may have taken effect: look (Get Consignment) before trying again.
    """


class QuoteExpired(CarrierError):
    """The quote is past its ExpiryDate: refused by us before any call, or by the carrier."""


class UnexpectedResponse(CarrierError):
    """An answer we cannot read: a 2xx body not in the documented shape (or a stray 3xx).

    After a 2xx the call took effect (a PUT/POST did its work): look before trying again.
    """
