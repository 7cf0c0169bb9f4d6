"""Labels, customs documents and manifests: the wire's base64 files as our `Document`s,
and the manifest request and its reply (pure).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from bot.carrier import wire
from bot.carrier.errors import UnexpectedResponse
from bot.models import Document, DocumentKind, ManifestResult

# -- Documents -------------------------------------------------------------------------------

# The current docs list PDF, ZPL and ZPLII; older pages also PNG, but the SDK says Get
# Consignment Labels does not support it, so we never ask for it.
LABEL_EXTENSIONS = {"PDF": "pdf", "ZPL": "zpl", "ZPLII": "zpl"}
# GUESS: only application/pdf is documented; used when PRO sends no ContentType.
LABEL_CONTENT_TYPES = {
    "PDF": "application/pdf",
    "ZPL": "text/plain",
    "ZPLII": "text/plain",
}


def label_document(
    response: wire.LabelResponse, consignment_reference: str, label_format: str
) -> Document:
    fmt = label_format.upper()
    if fmt not in LABEL_EXTENSIONS:
        raise ValueError(f"unknown label format {label_format!r}")
    data = decode_base64(response.file, what=f"the label of {consignment_reference}")
    return Document(
        kind=DocumentKind.LABEL,
        name=f"{consignment_reference}.{LABEL_EXTENSIONS[fmt]}",
        content_type=response.content_type or LABEL_CONTENT_TYPES[fmt],
        data=data,
    )


_CUSTOMS_KINDS = (
    (DocumentKind.CN22, "cn22"),
    (DocumentKind.CN23, "cn23"),
    (DocumentKind.COMMERCIAL_INVOICE, "commercial-invoice"),
)


def customs_documents(
    response: wire.CustomsDocumentsResponse, consignment_reference: str
) -> tuple[Document, ...]:
    """CN22, CN23, then commercial invoices; numbered when there is more than one of a kind."""
    lists = {
        DocumentKind.CN22: response.cn22_documents,
        DocumentKind.CN23: response.cn23_documents,
        DocumentKind.COMMERCIAL_INVOICE: response.commercial_invoice_documents,
    }
    documents: list[Document] = []
    for kind, slug in _CUSTOMS_KINDS:
        entries = lists[kind]
        for number, entry in enumerate(entries, start=1):
            suffix = f"-{number}" if len(entries) > 1 else ""
            name = f"{consignment_reference}-{slug}{suffix}.pdf"
            data = decode_base64(entry.value, what=f"{name} ({entry.key})")
            documents.append(
                Document(kind=kind, name=name, content_type="application/pdf", data=data)
            )
    return tuple(documents)


_PDF_MAGIC = b"%PDF"
_PDF_MAGIC_BASE64 = b"JVBER"  # base64 of "%PDF"


def decode_base64(text: str | None, *, what: str) -> bytes:
    """Strict base64 (whitespace allowed) so a truncated or placeholder value is an error.

    The docs' label example is base64 of *base64 of* a PDF (it decodes to "JVBERi0x...").
    That is probably an artefact of the hand-written example, but it costs nothing to
    accept: a real PDF never starts with "JVBER", so we only unwrap that case.
    """
    if not text:
        raise UnexpectedResponse(f"{what} came back empty")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnexpectedResponse(f"{what} is not valid base64") from exc
    if data.startswith(_PDF_MAGIC_BASE64):
        try:
            inner = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            return data
        if inner.startswith(_PDF_MAGIC):
            return inner
    return data


# -- Manifest --------------------------------------------------------------------------------


def manifest_request(
    shipping_locations: Sequence[str], states: Sequence[str], carriers: Sequence[str] | None
) -> wire.ManifestFromQueryRequest:
    for name, values in (
        ("shipping_locations", shipping_locations),
        ("states", states),
        ("carriers", carriers),
    ):
        if isinstance(values, str):  # a bare string would be sent letter by letter
            raise TypeError(f"{name} must be a sequence of strings, not a string")
    return wire.ManifestFromQueryRequest(
        shipping_location_references=list(shipping_locations),
        states=list(states),
        carriers=list(carriers) if carriers is not None else None,
    )


_QUEUED = re.compile(r"(\d+)\s+successfully\s+queued", re.IGNORECASE)


def manifest_result(response: wire.ManifestFromQueryResponse) -> ManifestResult:
    """The reply says how many it queued ("Query found N consignment(s). M successfully
    queued to manifest ..."): trust that count, not the list we think we sent. A message in
    another wording gives `queued=None`, and the caller looks each consignment up."""
    message = response.message or ""
    match = _QUEUED.search(message)
    return ManifestResult(
        message=message,
        failed=tuple(ref for ref in response.failed_consignments if ref),
        queued=int(match.group(1)) if match else None,
    )
