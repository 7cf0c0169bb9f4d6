"""Our shipment as the JSON Sorted PRO's Create Consignment receives (pure mapping)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.carrier import mapping_create, mapping_documents, mapping_quotes
from bot.carrier.customs import DEFAULT_PROFILE, CustomsProfile, parse_category_overrides
from bot.models import Customs, ExportReason, Money, Recipient, ShipmentRequest
from tests.factories import parcel


def _body(request: ShipmentRequest, location: str = "EDC5_Electio") -> Any:
    return json.loads(mapping_create.create_consignment_request(request, location).to_wire())


DOMESTIC = ShipmentRequest(
    shipper_reference="SHIP-2026-0042",
    order_number="1182",
    recipient=Recipient(
        name="Mary Ann Customer",
        email="mary@example.com",
        phone="07700900123",
        company="Customer Ltd",
        line1="10 Downing Street",
        line2="Westminster",
        town="London",
        region="Greater London",
        postcode="SW1A 2AA",
        country="gb",
    ),
    parcel=parcel("1.2", "30", "20", "10.5"),
    parcel_count=2,
    value=Money(amount=Decimal("25.00")),
    contents="Socks",
)


def test_domestic_shipment_maps_field_for_field() -> None:
    assert _body(DOMESTIC) == {
        "ConsignmentReferenceProvidedByCustomer": "SHIP-2026-0042",
        "Source": "Api",
        "Direction": "Outbound",
        "MetaData": [{"KeyValue": "OrderNumber", "StringValue": "1182"}],
        "Packages": [
            {
                "PackageReferenceProvidedByCustomer": f"SHIP-2026-0042-{n}",
                "Weight": {"Value": 1.2, "Unit": "Kg"},
                "Dimensions": {"Unit": "Cm", "Length": 30, "Width": 20, "Height": 10.5},
                "Description": "Socks",
                "Value": {"Amount": 12.5, "Currency": {"IsoCode": "GBP"}},
            }
            for n in (1, 2)
        ],
        "Addresses": [
            {
                "AddressType": "Origin",
                "ShippingLocationReference": "EDC5_Electio",
                "IsCached": False,
            },
            {
                "AddressType": "Destination",
                "Contact": {
                    "FirstName": "Mary Ann",
                    "LastName": "Customer",
                    "Telephone": "07700900123",
                    "Email": "mary@example.com",
                },
                "CompanyName": "Customer Ltd",
                "AddressLine1": "10 Downing Street",
                "AddressLine2": "Westminster",
                "Town": "London",
                "Region": "Greater London",
                "Postcode": "SW1A 2AA",
                "Country": {"IsoCode": {"TwoLetterCode": "GB"}},
                "IsCached": False,
            },
        ],
    }


def test_numbers_are_json_numbers_not_strings() -> None:
    raw = mapping_create.create_consignment_request(DOMESTIC, "LOC").to_wire().decode()

    assert '"Value":1.2' in raw
    assert '"Amount":12.5' in raw
    assert "null" not in raw


INTERNATIONAL = ShipmentRequest(
    shipper_reference="SHIP-INTL-7",
    recipient=Recipient(
        name="Jean Dupont",
        line1="1 Rue de Rivoli",
        town="Paris",
        postcode="75001",
        country="FR",
    ),
    parcel=parcel("0.5", "10", "10", "10"),
    value=Money(amount=Decimal("40.00"), currency="EUR"),
    contents="Books",
    customs=Customs(
        contents="Printed books",
        hs_code="490199",
        origin_country="gb",
        item_value=Money(amount=Decimal("40.00"), currency="EUR"),
        reason=ExportReason.SAMPLE,
    ),
)


def test_international_shipment_has_items_and_customs_documentation() -> None:
    body = _body(INTERNATIONAL, "SHIPBOT_SANDBOX_DC")

    assert "MetaData" not in body  # no order number
    assert body["CustomsDocumentation"] == {
        "ReasonForExport": "Sample",
        "CategoryType": "CommercialSample",
        "ShippingTerms": "DAP",
    }
    [package] = body["Packages"]
    assert package["PackageReferenceProvidedByCustomer"] == "SHIP-INTL-7-1"
    assert package["Value"] == {"Amount": 40.0, "Currency": {"IsoCode": "EUR"}}
    assert package["Items"] == [
        {
            "Description": "Printed books",
            "HarmonisationCode": "490199",
            "CountryOfOrigin": {"IsoCode": {"TwoLetterCode": "GB"}},
            "Value": {"Amount": 40.0, "Currency": {"IsoCode": "EUR"}},
            "Weight": {"Value": 0.5, "Unit": "Kg"},
            "Quantity": 1,
        }
    ]
    origin, destination = body["Addresses"]
    assert origin["ShippingLocationReference"] == "SHIPBOT_SANDBOX_DC"
    assert destination["Contact"] == {"FirstName": "Jean", "LastName": "Dupont"}
    assert destination["Country"] == {"IsoCode": {"TwoLetterCode": "FR"}}
    assert "CompanyName" not in destination and "AddressLine2" not in destination


def test_domestic_packages_have_no_items() -> None:
    assert all("Items" not in package for package in _body(DOMESTIC)["Packages"])
    assert "CustomsDocumentation" not in _body(DOMESTIC)


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        (ExportReason.SALE, "SaleOfGoods"),
        (ExportReason.GIFT, "Gift"),
        (ExportReason.SAMPLE, "CommercialSample"),
        (ExportReason.RETURN, "ReturnedGoods"),
        (ExportReason.DOCUMENTS, "Documents"),
    ],
)
def test_export_reason_category_types(reason: ExportReason, category: str) -> None:
    assert INTERNATIONAL.customs is not None
    request = INTERNATIONAL.model_copy(
        update={"customs": INTERNATIONAL.customs.model_copy(update={"reason": reason})}
    )

    customs = _body(request)["CustomsDocumentation"]
    assert customs == {
        "ReasonForExport": reason.value,
        "CategoryType": category,
        "ShippingTerms": "DAP",
    }


def test_declared_value_is_split_across_packages_to_the_penny() -> None:
    request = DOMESTIC.model_copy(update={"parcel_count": 3, "value": Money(amount=Decimal("10"))})

    amounts = [p["Value"]["Amount"] for p in _body(request)["Packages"]]
    assert amounts == [3.34, 3.33, 3.33]
    assert mapping_create.split_evenly(Decimal("10"), 3) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert sum(mapping_create.split_evenly(Decimal("100.01"), 7)) == Decimal("100.01")


def test_split_evenly_refuses_zero_parcels() -> None:
    with pytest.raises(ValueError):
        mapping_create.split_evenly(Decimal("10"), 0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Mary Ann  Smith ", ("Mary Ann", "Smith")),
        ("Cher", ("Cher", None)),
    ],
)
def test_split_name_on_the_last_space(name: str, expected: tuple[str, str | None]) -> None:
    assert mapping_create.split_name(name) == expected


def test_single_word_name_sends_no_last_name() -> None:
    request = DOMESTIC.model_copy(
        update={"recipient": DOMESTIC.recipient.model_copy(update={"name": "Cher"})}
    )

    assert _body(request)["Addresses"][1]["Contact"]["FirstName"] == "Cher"
    assert "LastName" not in _body(request)["Addresses"][1]["Contact"]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("ROYAL_MAIL", "Royal Mail"),
        ("UPS", "UPS"),
        ("DHL_EXPRESS", "DHL Express"),
        ("PARCELFORCE", "Parcelforce"),
        ("acceptanceTestCarrier", "acceptanceTestCarrier"),
    ],
)
def test_humanise_carrier(code: str, name: str) -> None:
    assert mapping_quotes.humanise_carrier(code) == name


def test_manifest_request_leaves_carriers_out_unless_given() -> None:
    without = json.loads(mapping_documents.manifest_request(["LOC"], ["Allocated"], None).to_wire())
    with_carriers = json.loads(
        mapping_documents.manifest_request(["LOC"], ["Allocated"], ["UPS"]).to_wire()
    )

    assert without == {"ShippingLocationReferences": ["LOC"], "States": ["Allocated"]}
    assert with_carriers == {
        "ShippingLocationReferences": ["LOC"],
        "States": ["Allocated"],
        "Carriers": ["UPS"],
    }


def test_manifest_request_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match="shipping_locations"):
        mapping_documents.manifest_request("LOC", ["Allocated"], None)


# -- Customs for parcels abroad (the Brexit guide's list) -----------------------------------


def test_abroad_sends_what_the_brexit_guide_lists_that_we_can_supply() -> None:
    profile = CustomsProfile.build(
        shipping_terms="ddp",
        shippers_vat_number="GB123456789",
        shippers_eori="GB987654312000",
        designated_person_responsible="Pat Shipper",
    )
    request = INTERNATIONAL.model_copy(update={"order_number": "77"})
    body = json.loads(
        mapping_create.create_consignment_request(
            request, "LOC", profile, date(2026, 11, 25)
        ).to_wire()
    )

    assert body["CustomsDocumentation"] == {
        "ReasonForExport": "Sample",
        "CategoryType": "CommercialSample",
        "DeclarationDate": "2026-11-25T00:00:00+00:00",
        "InvoiceDate": "2026-11-25T00:00:00+00:00",
        "ShippingTerms": "DDP",
        "ShippersVatNumber": "GB123456789",
        "DesignatedPersonResponsible": "Pat Shipper",
    }
    # The guide: the shipper's EORI is consignment MetaData with KeyValue ShippersEORI.
    assert body["MetaData"] == [
        {"KeyValue": "OrderNumber", "StringValue": "77"},
        {"KeyValue": "ShippersEORI", "StringValue": "GB987654312000"},
    ]
    item = body["Packages"][0]["Items"][0]
    assert {"CountryOfOrigin", "HarmonisationCode", "Quantity", "Value", "Description"} <= set(item)


def test_settings_never_leak_into_a_domestic_consignment() -> None:
    profile = CustomsProfile.build(shippers_eori="GB1", shippers_vat_number="GB2")
    body = json.loads(
        mapping_create.create_consignment_request(
            DOMESTIC, "LOC", profile, date(2026, 1, 1)
        ).to_wire()
    )

    assert "CustomsDocumentation" not in body
    assert body["MetaData"] == [{"KeyValue": "OrderNumber", "StringValue": "1182"}]


def test_item_values_add_up_to_the_declared_goods_across_packages() -> None:
    request = INTERNATIONAL.model_copy(update={"parcel_count": 3})

    items = [p["Items"] for p in _body(request)["Packages"]]
    assert [i[0]["Value"]["Amount"] for i in items] == [13.34, 13.33, 13.33]
    assert all(i[0]["Quantity"] == 1 for i in items)
    assert all(i[0]["Value"]["Currency"]["IsoCode"] == "EUR" for i in items)


def test_a_setting_overrides_the_category_mapping() -> None:
    overrides = parse_category_overrides(" sale = other ,Gift=Gift,")
    profile = CustomsProfile.build(overrides=overrides)

    assert overrides == {ExportReason.SALE: "Other", ExportReason.GIFT: "Gift"}
    assert profile.category_for(ExportReason.SALE) == "Other"
    assert profile.category_for(ExportReason.RETURN) == "ReturnedGoods"  # default kept


def test_an_unmapped_or_undocumented_category_falls_back_to_other() -> None:
    profile = CustomsProfile(categories={ExportReason.SALE: "Sale"})

    assert profile.category_for(ExportReason.SALE) == "Other"  # "Sale" is not a value
    assert profile.category_for(ExportReason.GIFT) == "Other"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("Sale", "REASON=CategoryType"), ("Bribe=Gift", "REASON"), ("Sale=Sale", "not a Category")],
)
def test_bad_category_overrides_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_category_overrides(text)


def test_unset_customs_fields_are_named_by_their_wire_names() -> None:
    assert DEFAULT_PROFILE.unset_fields() == (
        "ShippersVatNumber",
        "ShippersEORI",
        "DesignatedPersonResponsible",
    )
    assert CustomsProfile.build(shippers_eori=" GB1 ").unset_fields() == (
        "ShippersVatNumber",
        "DesignatedPersonResponsible",
    )


def test_refused_targets_name_the_form_field_that_holds_them() -> None:
    from bot.carrier.errors import ErrorDetail, InvalidRequest
    from bot.carrier.fields import refused_field, refused_fields

    assert refused_field("Packages[0].Weight.Value") == ("weight", "parcel_weight_kg")
    assert refused_field("Addresses[1].Postcode") == ("postcode", "address_postcode")
    assert refused_field("Addresses[1].Country.IsoCode.TwoLetterCode") == (
        "country",
        "address_country",
    )
    assert refused_field("Something.Unknown") is None and refused_field(None) is None
    refusal = InvalidRequest(
        "refused",
        details=(
            ErrorDetail(code="Invalid", target="Addresses[1].Postcode", message="bad"),
            ErrorDetail(code="Invalid", target="Addresses[1].Postcode", message="again"),
            ErrorDetail(code="Required", target="Packages[0].Weight.Value", message=None),
        ),
    )
    assert refused_fields(refusal) == [
        ("postcode", "address_postcode"),
        ("weight", "parcel_weight_kg"),
    ]
