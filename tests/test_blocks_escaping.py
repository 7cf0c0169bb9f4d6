"""Carrier text is the carrier's: it never becomes a mention, a link or bold in Slack."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from blocks import approval, consignment, manifest, report
from bot.carrier.errors import ErrorDetail, InvalidRequest
from bot.desk import messages
from bot.models import (
    Allocation,
    ConsignmentRecord,
    Price,
    Problem,
    Quote,
    Step,
    UnqualifiedService,
)
from tests.form_states import example_state

NASTY = "<!channel> *x* &"
ESCAPED = "&lt;!channel&gt; *x* &amp;"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _record(step: Step) -> ConsignmentRecord:
    from bot.intake.forms import parse_shipment

    request = parse_shipment(example_state())
    assert not isinstance(request, dict)
    quote = Quote(
        reference="Q1",
        consignment_reference=f"EC-{NASTY}",
        carrier_code="X",
        carrier_name=f"Carrier {NASTY}",
        service_code="S",
        service_name=f"Service {NASTY}",
        price=Price(net=Decimal(10), vat=Decimal(2), gross=Decimal(12), currency="<@U1>"),
        expires_at=NOW + timedelta(minutes=30),
    )
    return ConsignmentRecord(
        id=1,
        request=request,
        channel_id="C1",
        created_by="U0AGENT1",
        created_at=NOW,
        step=step,
        carrier_reference=f"EC-{NASTY}",
        quotes=(quote,),
        unqualified=(UnqualifiedService(service_name=f"Other {NASTY}", reason=NASTY),),
        claimed_by="U0AGENT1",
        claimed_quote="Q1",
        allocation=Allocation(
            consignment_reference="EC-1",
            carrier_code="X",
            carrier_name=f"Carrier {NASTY}",
            service_name=f"Service {NASTY}",
            tracking_numbers=(f"T-{NASTY}",),
        ),
        allocated_at=NOW,
        problem=Problem(
            step=Step.CREATING,
            kind="carrier",
            message=messages.form_refused(
                InvalidRequest(
                    "refused",
                    details=(
                        ErrorDetail(code=None, target="Addresses[1].Postcode", message=NASTY),
                    ),
                )
            ),
            correlation_id=f"corr-{NASTY}",
        ),
    )


def _rendered(*payloads: object) -> str:
    def plain(o: object) -> object:
        return dataclasses.asdict(o) if dataclasses.is_dataclass(o) else str(o)  # type: ignore[arg-type]

    return json.dumps(payloads, ensure_ascii=False, default=plain)


def test_service_and_carrier_names_are_escaped_in_every_renderer() -> None:
    shown = _rendered(
        consignment.quote_list(_record(Step.QUOTED)),
        consignment.channel_message(_record(Step.UPLOADED)),
        consignment.channel_message(_record(Step.AWAITING_APPROVAL)),
        consignment.channel_message(_record(Step.ALLOCATED)),
        consignment.claimed(_record(Step.CLAIMED)),
        consignment.allocated(_record(Step.UPLOADED)),
        consignment.problem(_record(Step.FAILED)),
        approval.request(_record(Step.AWAITING_APPROVAL), ["U0LEAD"], Decimal(5)),
        approval.awaiting(_record(Step.AWAITING_APPROVAL)),
        manifest.summary("U0LEAD", Counter({f"Carrier {NASTY}": 2}), [], []),
        messages.carrier_problem(
            "create",
            InvalidRequest(
                "refused", details=(ErrorDetail(code=None, target=NASTY, message=None),)
            ),
        ),
        manifest.manifest_failed("Sorted PRO refused", f"corr-{NASTY}"),
        report.spend_report(
            [
                {
                    "agent": "U0AGENT1",
                    "carrier": f"Carrier {NASTY}",
                    "currency": "GBP",
                    "count": 1,
                    "net": Decimal(10),
                    "gross": Decimal(12),
                }
            ],
            "today",
        ),
    )
    assert ESCAPED in shown
    assert "<!channel>" not in shown
    assert "<@U1>" not in shown
    assert "& " not in shown.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
