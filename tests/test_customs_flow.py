"""A parcel abroad with reason Sale, end to end through the real app and the sandbox carrier.

The sandbox refuses a `CategoryType` that is not one of PRO's values (as the real API
would refuse "Sale"), so the flow getting to a label is itself the proof; the consignment
the sandbox kept shows what went over the wire. Then `/ship status` shows tracking scans.
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from bot.models import Step
from bot.sandbox.server import RunningSandbox
from tests.harness import BotWith, Harness


@pytest.fixture
def shipper(bot_with: BotWith) -> Harness:
    """The bot with the shipper's customs settings filled in."""
    return bot_with(
        shipbot_shippers_vat_number="GB123456789",
        shipbot_shippers_eori="GB987654312000",
        shipbot_designated_person="Pat Shipper",
    )


def _at_the_carrier(sandbox: RunningSandbox, reference: str) -> dict[str, Any]:
    with httpx.Client(base_url=sandbox.url, headers={"ocp-apim-subscription-key": "k"}) as http:
        response = http.get(f"/consignments/{reference}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _status_card(h: Harness, reference: str) -> str:
    response = h.driver.command(f"status {reference}")
    assert response.status_code == 200, response.text
    url = h.driver.last_response_url
    assert url
    h.wait(lambda: bool(h.fake.responses_to(url)))
    h.bot.runner.wait_idle()
    return json.dumps(h.fake.responses_to(url)[-1]["blocks"], ensure_ascii=False)


def test_a_sale_abroad_goes_out_as_sale_of_goods_and_its_scans_show_in_status(
    shipper: Harness,
) -> None:
    record = shipper.quoted(international=True)  # the customs page says reason "Sale"
    assert record.request.customs is not None and record.request.customs.reason.value == "Sale"
    shipper.click_quote(record)
    done = shipper.wait_step(record.id, Step.UPLOADED)
    reference = done.carrier_reference
    assert reference

    sent = _at_the_carrier(shipper.sandbox, reference)
    customs = sent["CustomsDocumentation"]
    assert customs["CategoryType"] == "SaleOfGoods"
    assert customs["ReasonForExport"] == "Sale"
    assert customs["ShippingTerms"] == "DAP"
    assert customs["ShippersVatNumber"] == "GB123456789"
    assert customs["DesignatedPersonResponsible"] == "Pat Shipper"
    assert customs["DeclarationDate"] == customs["InvoiceDate"]
    assert {"KeyValue": "ShippersEORI", "StringValue": "GB987654312000"} in sent["MetaData"]
    item = sent["Packages"][0]["Items"][0]
    assert item["HarmonisationCode"] == "640411" and item["Quantity"] == 1
    assert item["CountryOfOrigin"]["IsoCode"]["TwoLetterCode"] == "GB"
    # Get Consignment's Allocation in the SDK's shape names the service we chose.
    assert done.allocation is not None
    assert sent["Allocation"]["MpdCarrierServiceName"] == done.allocation.service_name

    # A sale of goods gets a commercial invoice, with the shipper's EORI on it.
    files = {f.filename: f.data for f in shipper.fake.files if f.thread_ts == record.message_ts}
    invoice = files[f"{reference}-commercial-invoice.pdf"]
    text = PdfReader(io.BytesIO(invoice)).pages[0].extract_text()
    assert "EORI number: GB987654312000" in text and "VAT number: GB123456789" in text

    shipper.driver.command("manifest")
    shipper.wait_step(record.id, Step.MANIFESTED)
    shipper.sandbox.advance_clock(600 + 5)  # collected
    card = _status_card(shipper, reference)

    assert "Collected by" in card and "Ready for collection by" in card
    assert shipper.sandbox.count("GET", rf"^/tracking/flattened/{reference}$") == 1


def test_a_category_the_api_does_not_know_is_refused_by_the_sandbox(
    sandbox: RunningSandbox,
) -> None:
    body = {
        "Packages": [
            {
                "Weight": {"Value": 1, "Unit": "Kg"},
                "Dimensions": {"Unit": "Cm", "Length": 10, "Width": 10, "Height": 10},
            }
        ],
        "Addresses": [
            {"AddressType": "Origin", "ShippingLocationReference": "SHIPBOT_SANDBOX_DC"},
            {
                "AddressType": "Destination",
                "AddressLine1": "1 Rue de Rivoli",
                "Town": "Paris",
                "Postcode": "75001",
                "Country": {"IsoCode": {"TwoLetterCode": "FR"}},
            },
        ],
        "CustomsDocumentation": {"ReasonForExport": "Sale", "CategoryType": "Sale"},
    }
    with httpx.Client(base_url=sandbox.url, headers={"ocp-apim-subscription-key": "k"}) as http:
        response = http.post("/consignments", json=body)

    assert response.status_code == 400
    [detail] = response.json()["Details"]
    assert detail["Target"] == "CustomsDocumentation.CategoryType"
