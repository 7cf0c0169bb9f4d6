"""What a button's `value` and a modal's `private_metadata` carry, as small typed classes.

Everything Slack sends back came from outside: `decode` returns None for anything we did not
write, and listeners answer that as "unreadable" instead of splitting strings by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ID_DIGITS = 11
MAX_QUOTE_REFERENCE = 120
# Slack's limit on private_metadata, counted in characters as Slack counts them (UTF-16
# code units: an emoji outside the BMP counts twice).
MAX_PRIVATE_METADATA = 3000


def _id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= MAX_ID_DIGITS else None


@dataclass(frozen=True)
class ConsignmentValue:
    """A button about one consignment (Try again, Status, Cancel, Approve ...)."""

    cid: int

    def encode(self) -> str:
        return str(self.cid)

    @classmethod
    def decode(cls, value: object) -> ConsignmentValue | None:
        head = str(value or "").split(":", 1)[0]
        cid = _id(head)
        return cls(cid) if cid is not None else None


@dataclass(frozen=True)
class QuoteValue:
    """A Choose button: which consignment, which quote."""

    cid: int
    quote: str

    def encode(self) -> str:
        return f"{self.cid}:{self.quote}"

    @classmethod
    def decode(cls, value: object) -> QuoteValue | None:
        head, _, quote = str(value or "").partition(":")
        cid = _id(head)
        if cid is None or not quote or len(quote) > MAX_QUOTE_REFERENCE:
            return None
        return cls(cid, quote)


MAX_CARRIER_REFERENCE = 40


@dataclass(frozen=True)
class CarrierReferenceValue:
    """A button about a Sorted PRO consignment we may not have made (Take over)."""

    reference: str

    def encode(self) -> str:
        return self.reference

    @classmethod
    def decode(cls, value: object) -> CarrierReferenceValue | None:
        text = str(value or "").strip().upper()
        if not text or len(text) > MAX_CARRIER_REFERENCE:
            return None
        if not all(ch.isalnum() or ch == "-" for ch in text):
            return None
        return cls(text)


@dataclass(frozen=True)
class FixAddressMetadata:
    """ "Fix the address"'s private_metadata: which Sorted PRO consignment, and where to
    answer (its thread goes in `channel` if it is taken over now)."""

    reference: str
    channel: str
    response_url: str | None = None

    def encode(self) -> str:
        data = {"reference": self.reference, "channel": self.channel}
        if self.response_url:
            data["response_url"] = self.response_url
        return _fitting_metadata(data)

    @classmethod
    def decode(cls, text: object) -> FixAddressMetadata | None:
        data = _json_object(text)
        if data is None:
            return None
        reference = CarrierReferenceValue.decode(data.get("reference"))
        channel = data.get("channel")
        if reference is None or not isinstance(channel, str):
            return None
        url = data.get("response_url")
        return cls(reference.reference, channel, url if isinstance(url, str) else None)


LIST_MODES = ("open", "today", "all")


@dataclass(frozen=True)
class ListPageValue:
    """`/ship list`'s Next page button."""

    mode: str
    offset: int

    def encode(self) -> str:
        return f"{self.mode}:{self.offset}"

    @classmethod
    def decode(cls, value: object) -> ListPageValue | None:
        mode, _, offset = str(value or "").partition(":")
        if mode not in LIST_MODES or not offset.isdigit() or len(offset) > 6:
            return None
        return cls(mode, int(offset))


@dataclass(frozen=True)
class FormMetadata:
    """The `/ship` modal's private_metadata: where the consignment goes, and which one a
    corrected form replaces, and which one a "Ship again" form repeats (its thread names it).
    The page-1 answers of a form abroad live in the store (keyed by the view), so no valid
    form can overflow Slack's 3,000 characters."""

    channel: str
    response_url: str | None = None
    consignment: int | None = None
    repeats: int | None = None
    # A return form: the consignment the customer sends back.
    returns: int | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"channel": self.channel}
        if self.response_url:
            data["response_url"] = self.response_url
        if self.consignment is not None:
            data["consignment"] = self.consignment
        if self.repeats is not None:
            data["repeats"] = self.repeats
        if self.returns is not None:
            data["returns"] = self.returns
        return _fitting_metadata(data)

    @classmethod
    def decode(cls, text: object) -> FormMetadata | None:
        data = _json_object(text)
        if data is None or not isinstance(data.get("channel"), str):
            return None
        url = data.get("response_url")
        replaces = data.get("consignment")
        repeats = data.get("repeats")
        return cls(
            channel=data["channel"],
            response_url=url if isinstance(url, str) else None,
            consignment=_int_or_none(replaces),
            repeats=_int_or_none(repeats),
            returns=_int_or_none(data.get("returns")),
        )


def _fitting_metadata(data: dict[str, Any]) -> str:
    """`data` as private_metadata; past Slack's 3,000 characters (only a forged response_url
    gets there) without its response_url, so the form still opens and answers in the thread."""
    text = json.dumps(data, separators=(",", ":"))
    if slack_length(text) > MAX_PRIVATE_METADATA:
        text = json.dumps({k: v for k, v in data.items() if k != "response_url"})
    return text


def _json_object(text: object) -> dict[str, Any] | None:
    """The JSON object Slack handed back; None for anything else (we wrote only objects)."""
    try:
        data = json.loads(str(text or ""))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _int_or_none(value: object) -> int | None:
    """JSON true is an int to Python: only a real id counts."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def slack_length(text: str) -> int:
    """Length as Slack counts it (UTF-16 code units), not Python's code points."""
    return len(text.encode("utf-16-le")) // 2
