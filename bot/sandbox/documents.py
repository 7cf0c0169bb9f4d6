"""Real documents for the sandbox: labels (PDF, ZPL) and customs forms (CN22, CN23, invoice).

PDFs are drawn with reportlab (`invariant=True`, so the same consignment gives the same
bytes) and barcodes are reportlab's Code128, so a scanner reads the tracking number.
Rendering takes milliseconds per page; the app runs it off the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, A6, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from bot.sandbox.catalogue import CUSTOMS_CN22_LIMIT_GBP
from bot.sandbox.state import ConsignmentView
from bot.sandbox.validation import Address, Item, NewConsignment, Package

LABEL_SIZE = (100 * mm, 150 * mm)
PDF = "application/pdf"
# Sorted documents only "application/pdf"; the content type of ZPL labels is undocumented.
ZPL = "application/zpl"
SANDBOX_NOTE = "SHIPBOT SANDBOX - NOT VALID FOR CARRIAGE"


def _latin(text: str) -> str:
    """reportlab's standard fonts are WinAnsi: anything else prints as '?'."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


class _Page:
    """A text cursor on a canvas: lines flow down from `top`, clipped to the width."""

    def __init__(
        self, canvas: Canvas, left: float, top: float, width: float, bottom: float = 0
    ) -> None:
        self.canvas, self.left, self.top, self.width = canvas, left, top, width
        self.y, self.bottom = top, bottom

    def _advance(self, points: float) -> None:
        """Moves down, onto a new page when this one is full (long item lists)."""
        if self.y - points < self.bottom:
            self.canvas.showPage()
            self.y = self.top
        self.y -= points

    def line(self, text: str, size: float = 9, *, bold: bool = False, gap: float = 1.3) -> None:
        font = "Helvetica-Bold" if bold else "Helvetica"
        text = _latin(text)
        while text and self.canvas.stringWidth(text, font, size) > self.width:
            text = text[:-1]
        self._advance(size * gap)
        self.canvas.setFont(font, size)
        self.canvas.drawString(self.left, self.y, text)

    def space(self, points: float) -> None:
        self._advance(points)

    def rule(self) -> None:
        self._advance(4)
        self.canvas.setLineWidth(0.8)
        self.canvas.line(self.left, self.y, self.left + self.width, self.y)
        self._advance(2)

    def columns(self, cells: Sequence[str], widths: Sequence[float], size: float = 8) -> None:
        self._advance(size * 1.35)
        x = self.left
        for cell, width in zip(cells, widths, strict=True):
            text = _latin(cell)
            while text and self.canvas.stringWidth(text, "Helvetica", size) > width - 4:
                text = text[:-1]
            self.canvas.setFont("Helvetica", size)
            self.canvas.drawString(x, self.y, text)
            x += width


def _canvas(buffer: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=size, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("shipbot sandbox")
    return canvas


def _end_page(canvas: Canvas, width: float, y: float, size: float) -> None:
    """Every page says at its foot that it is the sandbox's, not one to ship with."""
    canvas.setFont("Helvetica", size)
    canvas.drawCentredString(width / 2, y, SANDBOX_NOTE)
    canvas.showPage()


def _saved(canvas: Canvas, buffer: io.BytesIO) -> bytes:
    canvas.save()
    return buffer.getvalue()


def _barcode(canvas: Canvas, value: str, centre_x: float, y: float, max_width: float) -> None:
    probe = Code128(value, barWidth=1, humanReadable=False)
    bar_width = min(0.5 * mm, max_width / probe.width)
    barcode = Code128(value, barWidth=bar_width, barHeight=22 * mm, humanReadable=False)
    barcode.drawOn(canvas, centre_x - barcode.width / 2, y)


def _kg(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001')).normalize():f} kg"


@dataclass(frozen=True)
class _Parcel:
    number: int
    package: Package
    reference: str
    tracking: str


def _parcels(view: ConsignmentView, only: int | None) -> Iterator[_Parcel]:
    allocation = view.allocation
    assert allocation is not None, "labels need an allocation"
    for n, package in enumerate(view.request.packages):
        if only is None or n == only:
            yield _Parcel(n + 1, package, view.package_references[n], allocation.tracking[n])


RETURN_MARK = "RETURN · pre-paid, no stamp needed"


def is_return(view: ConsignmentView) -> bool:
    """An Inbound consignment: its label says RETURN, big, so no one ships it out again."""
    return view.request.direction.lower() == "inbound"


def label_pdf(view: ConsignmentView, only: int | None = None) -> bytes:
    """One 100x150 mm page per package (or only package index `only`)."""
    allocation = view.allocation
    assert allocation is not None, "labels need an allocation"
    request = view.request
    buffer = io.BytesIO()
    canvas = _canvas(buffer, LABEL_SIZE, f"Labels {view.reference}")
    width, height = LABEL_SIZE
    count = len(request.packages)
    for parcel in _parcels(view, only):
        page = _Page(canvas, 6 * mm, height - 4 * mm, width - 12 * mm)
        page.line(allocation.carrier.name, 16, bold=True)
        page.line(allocation.service.name, 10)
        if is_return(view):
            page.line(RETURN_MARK, 14, bold=True)
        page.rule()
        page.line("FROM", 6, bold=True)
        for text in request.origin.short_lines():
            page.line(text, 7, gap=1.2)
        page.rule()
        page.line("TO", 7, bold=True)
        lines = request.destination.lines()
        page.line(lines[0], 12, bold=True)
        for text in lines[1:]:
            if text == request.destination.postcode:
                page.line(text.upper(), 20, bold=True)  # large, for sorting by eye
            else:
                page.line(text, 10)
        page.rule()
        page.line(f"Parcel {parcel.number} of {count}   {_kg(parcel.package.size.weight_kg)}", 9)
        page.line(f"Consignment {view.reference}   Package {parcel.reference}", 8)
        if request.customer_reference:
            page.line(f"Ref {request.customer_reference}", 8)
        _barcode(canvas, parcel.tracking, width / 2, 22 * mm, width - 14 * mm)
        canvas.setFont("Helvetica-Bold", 12)
        canvas.drawCentredString(width / 2, 15 * mm, parcel.tracking)
        _end_page(canvas, width, 6 * mm, 6)
    return _saved(canvas, buffer)


def _zpl_text(text: str) -> str:
    """^ and ~ start ZPL commands; keep them out of field data."""
    return text.replace("^", " ").replace("~", " ")


class _ZplLabel:
    """ZPL fields flowing down a 4x6 in label at 203 dpi (812 x 1218 dots)."""

    def __init__(self) -> None:
        self.y = 30
        self.fields: list[str] = []

    def text(self, value: str, size: int) -> None:
        self.fields.append(f"^FO40,{self.y}^A0N,{size},{size}^FD{_zpl_text(value)}^FS")
        self.y += size + 8

    def rule(self) -> None:
        self.fields.append(f"^FO40,{self.y}^GB732,3,3^FS")
        self.y += 12

    def barcode(self, value: str) -> None:
        module = 3 if (11 * (len(value) + 3) + 35) * 3 < 730 else 2
        self.fields.append(f"^FO60,900^BY{module}^BCN,170,N,N,N^FD{value}^FS")
        self.fields.append(f"^FO40,1090^A0N,40,40^FD{value}^FS")

    def render(self) -> str:
        return "^XA\n^CI28\n^PW812\n^LL1218\n" + "\n".join(self.fields) + "\n^XZ\n"


def label_zpl(view: ConsignmentView, only: int | None = None) -> bytes:
    """The same labels in ZPL II, for thermal printers."""
    allocation = view.allocation
    assert allocation is not None, "labels need an allocation"
    request = view.request
    count = len(request.packages)
    out: list[str] = []
    for parcel in _parcels(view, only):
        label = _ZplLabel()
        label.text(allocation.carrier.name, 50)
        label.text(allocation.service.name, 30)
        if is_return(view):
            label.text(RETURN_MARK, 30)
        label.rule()
        label.text("FROM", 20)
        for line in request.origin.short_lines():
            label.text(line, 20)
        label.rule()
        label.text("TO", 24)
        for line in request.destination.lines():
            label.text(line, 30)
        label.text(request.destination.postcode.upper(), 60)
        label.text(f"Parcel {parcel.number} of {count}  {_kg(parcel.package.size.weight_kg)}", 24)
        label.text(f"Consignment {view.reference}  Package {parcel.reference}", 22)
        label.barcode(parcel.tracking)
        label.fields.append(f"^FO40,1160^A0N,20,20^FD{SANDBOX_NOTE}^FS")
        out.append(label.render())
    return "".join(out).encode("utf-8")


# -- customs -----------------------------------------------------------------------------

# The CN22/CN23 boxes, keyed by the CategoryType that ticks them (Personal and None tick
# Other, as the forms have no box for them).
CATEGORIES = (
    ("Gift", "Gift"),
    ("CommercialSample", "Commercial sample"),
    ("Documents", "Documents"),
    ("ReturnedGoods", "Returned goods"),
    ("SaleOfGoods", "Sale of goods"),
    ("Other", "Other"),
)


def needs_customs(view: ConsignmentView) -> bool:
    """Leaving or entering the UK: a return from abroad needs its declaration too."""
    request = view.request
    return request.destination.country != "GB" or request.origin.country != "GB"


def customs_form(view: ConsignmentView) -> str:
    """CN22 up to £270 declared, CN23 above (the UPU limit Royal Mail applies)."""
    return "CN22" if view.request.declared_value <= CUSTOMS_CN22_LIMIT_GBP else "CN23"


@dataclass(frozen=True)
class _Line:
    description: str
    quantity: int
    weight_kg: Decimal
    value: Decimal
    hs_code: str
    origin: str


def _lines(package: Package) -> list[_Line]:
    if not package.items:
        return [
            _Line(
                package.description or "Goods",
                1,
                package.size.weight_kg,
                package.declared_value,
                "",
                "",
            )
        ]
    share = package.size.weight_kg / sum(i.quantity for i in package.items)
    return [_item_line(item, share) for item in package.items]


def _item_line(item: Item, default_weight: Decimal) -> _Line:
    weight = (item.weight_kg or default_weight) * item.quantity
    value = (item.value or Decimal(0)) * item.quantity
    return _Line(
        item.description or "Goods", item.quantity, weight, value, item.hs_code, item.origin_country
    )


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _category(view: ConsignmentView) -> str:
    category = view.request.category_type
    return next((label for key, label in CATEGORIES if key == category), "Other")


def _signer(request: NewConsignment) -> str:
    """Who signs a customs document: the designated person, else the sender's company."""
    customs = request.customs or {}
    return str(customs.get("DesignatedPersonResponsible") or request.origin.text("CompanyName"))


def _document_date(customs: dict[str, Any], key: str, issued: date) -> date:
    """The request's DeclarationDate/InvoiceDate when it sent one, else the day we print."""
    value = customs.get(key)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    return issued


def _address_block(page: _Page, heading: str, address: Address) -> None:
    page.line(heading, 7, bold=True)
    for text in address.lines():
        page.line(text, 8, gap=1.2)


def _items_table(page: _Page, lines: list[_Line], widths: Sequence[float]) -> None:
    page.columns(
        ["Qty", "Description of contents", "HS tariff no.", "Origin", "Weight", "Value GBP"],
        widths,
    )
    page.rule()
    for line in lines:
        page.columns(
            [
                str(line.quantity),
                line.description,
                line.hs_code,
                line.origin,
                _kg(line.weight_kg),
                _money(line.value),
            ],
            widths,
        )
    page.rule()
    total_kg = sum((line.weight_kg for line in lines), Decimal(0))
    total_value = sum((line.value for line in lines), Decimal(0))
    page.columns(["", "Total", "", "", _kg(total_kg), _money(total_value)], widths)


def _customs_page(
    view: ConsignmentView, index: int, form: str, issued: date, size: tuple[float, float]
) -> bytes:
    request = view.request
    package = request.packages[index]
    customs = request.customs or {}
    buffer = io.BytesIO()
    canvas = _canvas(buffer, size, f"{form} {view.package_references[index]}")
    width, height = size
    margin = 6 * mm if form == "CN22" else 15 * mm
    page = _Page(canvas, margin, height - margin, width - 2 * margin, bottom=margin)
    page.line(
        f"CUSTOMS DECLARATION  {form[:2]} {form[2:]}", 13 if form == "CN22" else 16, bold=True
    )
    carrier = view.allocation.carrier.name if view.allocation else "(not allocated yet)"
    page.line(f"Designated operator: {carrier}    May be opened officially", 7)
    page.line(
        f"Consignment {view.reference}   Package {view.package_references[index]}"
        f"   ({index + 1} of {len(request.packages)})",
        7,
    )
    if view.allocation is not None:
        page.line(f"Item tracking number: {view.allocation.tracking[index]}", 8, bold=True)
    page.rule()
    if form == "CN23":
        _address_block(page, "FROM (sender)", request.origin)
        page.space(4)
        _address_block(page, "TO (addressee)", request.destination)
        importer = [
            f"{label}: {customs[key]}"
            for key, label in (
                ("ImportersVatNumber", "Importer's VAT no."),
                ("ImportersTaxCode", "Importer's tax code"),
                ("ImportersTelephone", "Importer's telephone"),
                ("ImportersEmail", "Importer's email"),
            )
            if customs.get(key)
        ]
        for text in importer:
            page.line(text, 8)
        page.rule()
    category = _category(view)
    page.line(
        "   ".join(f"[{'X' if label == category else ' '}] {label}" for _, label in CATEGORIES),
        7,
    )
    page.rule()
    widths = [0.08, 0.40, 0.16, 0.09, 0.13, 0.14]
    _items_table(page, _lines(package), [w * page.width for w in widths])
    if form == "CN23":
        page.space(4)
        for key, label in (
            ("CN23Comments", "Comments"),
            ("ReferencesOfAttachedInvoices", "Invoices attached"),
            ("ReferencesOfAttachedCertificates", "Certificates attached"),
            ("ReferencesOfAttachedLicences", "Licences attached"),
            ("OfficeOfPosting", "Office of origin / date of posting"),
        ):
            value = customs.get(key)
            if value:
                shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                page.line(f"{label}: {shown}", 8)
        if view.allocation is not None:
            page.line(
                f"Postal charges/fees: GBP {_money(view.allocation.quote.pricing.total.gross)}", 8
            )
    page.space(4)
    for text in (
        "I certify that the particulars given in this customs declaration are correct and",
        "that this item does not contain any dangerous article prohibited by legislation",
        "or by postal or customs regulations.",
    ):
        page.line(text, 6, gap=1.2)
    declared = _document_date(customs, "DeclarationDate", issued)
    page.line(f"Date: {declared:%d/%m/%Y}    Signature of sender: {_signer(request)}", 8)
    _end_page(canvas, width, 3 * mm, 5)
    return _saved(canvas, buffer)


def customs_pdfs(view: ConsignmentView, issued: date) -> list[tuple[str, bytes]]:
    """One CN22 (A6 landscape) or CN23 (A4) per package, keyed by form and package reference."""
    if not needs_customs(view):
        return []
    form = customs_form(view)
    size = landscape(A6) if form == "CN22" else A4
    return [
        (f"{form}_{view.package_references[n]}", _customs_page(view, n, form, issued, size))
        for n in range(len(view.request.packages))
    ]


def commercial_invoice_pdf(view: ConsignmentView, issued: date) -> bytes | None:
    """For a sale leaving GB (CategoryType SaleOfGoods): the invoice beside the CN22/CN23."""
    request = view.request
    if not needs_customs(view) or request.category_type != "SaleOfGoods":
        return None
    customs = request.customs or {}
    invoices = customs.get("ReferencesOfAttachedInvoices") or []
    number = str(invoices[0]) if invoices else f"INV-{view.reference}"
    buffer = io.BytesIO()
    canvas = _canvas(buffer, A4, f"Commercial invoice {number}")
    width, height = A4
    page = _Page(canvas, 15 * mm, height - 15 * mm, width - 30 * mm, bottom=15 * mm)
    page.line("COMMERCIAL INVOICE", 18, bold=True)
    invoiced = _document_date(customs, "InvoiceDate", issued)
    page.line(f"Invoice number: {number}    Date: {invoiced:%d/%m/%Y}", 9)
    page.line(f"Consignment {view.reference}    Reason for export: Sale of goods", 9)
    if customs.get("ShippingTerms"):
        page.line(f"Terms of delivery (Incoterms): {customs['ShippingTerms']}", 9)
    page.rule()
    _address_block(page, "EXPORTER", request.origin)
    if customs.get("ShippersVatNumber"):
        page.line(f"VAT number: {customs['ShippersVatNumber']}", 8)
    if eori := request.metadata_text("ShippersEORI"):
        page.line(f"EORI number: {eori}", 8)
    page.space(4)
    _address_block(page, "CONSIGNEE", request.destination)
    if customs.get("ReceiversVatNumber"):
        page.line(f"VAT number: {customs['ReceiversVatNumber']}", 8)
    page.rule()
    lines = [line for package in request.packages for line in _lines(package)]
    widths = [0.07, 0.43, 0.15, 0.09, 0.12, 0.14]
    _items_table(page, lines, [w * page.width for w in widths])
    page.space(6)
    page.line(f"Packages: {len(request.packages)}    Currency: GBP", 9)
    page.line("I declare that the information on this invoice is true and correct.", 8)
    page.line(f"Signed: {_signer(request)}", 9)
    _end_page(canvas, width, 8 * mm, 6)
    return _saved(canvas, buffer)
