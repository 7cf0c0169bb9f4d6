"""The sandbox's HTTP API: Sorted PRO's paths, methods, bodies and status codes.

Handlers are async and touch the state only through `SandboxState` (which takes its own
lock briefly); PDF rendering runs in the thread pool, so one slow label does not hold up
other requests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.sandbox import documents, render, search, tracking
from bot.sandbox import events as state_events
from bot.sandbox.errors import ApiProblem, Detail
from bot.sandbox.faults import FaultBook, parse_fault, seconds_field
from bot.sandbox.gateway import Gateway
from bot.sandbox.requestlog import RequestLog
from bot.sandbox.state import ConsignmentView, SandboxState
from bot.sandbox.validation import (
    parse_address,
    parse_create,
    parse_json_object,
    parse_manifest_query,
)

log = logging.getLogger(__name__)

# The current docs: PDF, ZPL or ZPLII. PNG (older pages) is refused with its own message.
LABEL_FORMATS = ("PDF", "ZPL", "ZPLII")


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(content, ensure_ascii=False),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _no_body() -> Response:
    """200 with no body: what Cancel and Deallocate answer (help pages, SDK)."""
    return Response(status_code=200)


def _success(request: Request, reference: str, message: str) -> dict[str, Any]:
    """The `{IsSuccess, Message, Data, ApiLinks}` envelope of Sorted's state-change calls."""
    return {
        "IsSuccess": True,
        "Message": message,
        "Data": reference,
        "ApiLinks": [{"Rel": "detail", "Href": f"{_base_url(request)}/consignments/{reference}"}],
    }


class Sandbox:
    """The ASGI app (the API behind its gateway, plus `/__sandbox/` controls) and its handles."""

    def __init__(
        self,
        new_state: Callable[[], SandboxState],
        *,
        api_key: str | None = None,
        latency_seconds: float = 0.0,
    ) -> None:
        self._new_state = new_state
        self._latency_seconds = latency_seconds
        self.state = new_state()
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.api = Starlette(
            routes=self._routes(),
            exception_handlers={
                ApiProblem: self._on_problem,
                HTTPException: self._on_no_route,
                Exception: self._on_crash,
            },
        )
        self.gateway = Gateway(
            self.api,
            api_key=api_key,
            latency_seconds=latency_seconds,
            faults=self.faults,
            log=self.requests,
            correlation_id=lambda: self.state.correlation_id(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.gateway(scope, receive, send)

    def reset(self) -> None:
        """Back to a fresh start (same seed and settings): no consignments, faults or log."""
        self.state = self._new_state()
        self.faults.clear()
        self.requests.clear()
        self.gateway.latency_seconds = self._latency_seconds

    def _routes(self) -> list[Route]:
        return [
            Route("/consignments", self.create_consignment, methods=["POST"]),
            # Update Consignment: PUT /consignments/ (trailing slash in every source).
            Route("/consignments", self.update_consignment, methods=["PUT"]),
            Route("/consignments/", self.update_consignment, methods=["PUT"]),
            Route(
                "/consignments/manifestFromQuery", self.manifest_from_query, methods=["PUT", "POST"]
            ),
            Route("/consignments/setreadytoship", self.set_ready_to_ship, methods=["PUT"]),
            Route("/consignments/setnotreadytoship", self.set_ready_to_ship, methods=["PUT"]),
            Route("/consignments/docs/{ref}", self.get_customs_documents, methods=["GET"]),
            Route("/consignments/late", self.get_late, methods=["GET"]),
            # CONFLICT in Sorted's docs on the path: both are served (electio-rescue §6b).
            Route("/events/consignments/stateevents", self.get_state_events, methods=["POST"]),
            Route("/events/consignmentstateevents", self.get_state_events, methods=["POST"]),
            Route("/consignments/{take:int}/{skip:int}", self.search_consignments, methods=["GET"]),
            Route("/consignments/{ref}", self.get_consignment, methods=["GET"]),
            # Update Consignment Address - CONFLICT on the route: PUT /consignments/{ref}
            # (Sorted's SDK) or POST .../updateconsignmentaddress (2016 SDK): both served.
            Route("/consignments/{ref}", self.update_address, methods=["PUT"]),
            Route(
                "/consignments/{ref}/updateconsignmentaddress",
                self.update_address,
                methods=["POST"],
            ),
            Route("/consignments/{ref}/cancel", self.cancel, methods=["PUT"]),
            Route("/consignments/{ref}/deallocate", self.deallocate, methods=["PUT"]),
            Route("/quotes/consignment/{ref}", self.get_quotes, methods=["GET"]),
            Route("/allocation/{ref}/allocatewithquote/{quote}", self.allocate, methods=["PUT"]),
            Route("/labels/package/{ref}/{package}", self.get_labels, methods=["GET"]),
            Route("/labels/package/{ref}/{package}/{format}", self.get_labels, methods=["GET"]),
            Route("/labels/{ref}", self.get_labels, methods=["GET"]),
            Route("/labels/{ref}/{format}", self.get_labels, methods=["GET"]),
            Route("/tracking/flattened/{ref}", self.get_tracking_flattened, methods=["GET"]),
            Route("/tracking/{ref}", self.get_tracking, methods=["GET"]),
            Route("/__sandbox/faults", self.faults_endpoint, methods=["GET", "POST", "DELETE"]),
            Route("/__sandbox/requests", self.requests_endpoint, methods=["GET", "DELETE"]),
            Route("/__sandbox/clock", self.clock_endpoint, methods=["GET", "POST"]),
            Route("/__sandbox/settings", self.settings_endpoint, methods=["GET", "POST"]),
            Route("/__sandbox/reset", self.reset_endpoint, methods=["POST"]),
            Route("/__sandbox/journey", self.journey_endpoint, methods=["POST"]),
        ]

    async def _on_problem(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        return json_response(render.error(exc, self.state.correlation_id()), exc.status)

    async def _on_no_route(self, request: Request, exc: Exception) -> Response:
        # The gateway answers for paths (or methods) no API operation has, in its own shape.
        return json_response({"statusCode": 404, "message": "Resource not found"}, 404)

    async def _on_crash(self, request: Request, exc: Exception) -> Response:
        log.exception("sandbox handler failed", exc_info=exc)
        problem = ApiProblem(500, "InternalError", f"The sandbox failed: {exc!r}")
        return json_response(render.error(problem, self.state.correlation_id()), 500)

    # -- the five steps ---------------------------------------------------------------
    async def create_consignment(self, request: Request) -> Response:
        new = parse_create(parse_json_object(await request.body()))
        reference = self.state.create(new)
        href = f"{_base_url(request)}/consignments/{reference}"
        return json_response([{"Rel": "Link", "Href": href}], 201)

    async def get_quotes(self, request: Request) -> Response:
        quotes = self.state.quote(request.path_params["ref"])
        return json_response(render.quote_set(quotes), 201)  # 201 (sic), as documented

    async def allocate(self, request: Request) -> Response:
        reference = request.path_params["ref"]
        raw_quote = request.path_params["quote"]
        try:
            quote_reference = str(uuid.UUID(raw_quote))
        except ValueError as exc:
            message = f"Quote reference {raw_quote!r} is not a GUID."
            raise ApiProblem(
                400, "ValidationError", message, [Detail("Invalid", "quoteReference", message)]
            ) from exc
        begun = self.state.allocate_seconds > 0 and self.state.begin_allocating(reference)
        if begun:
            await asyncio.sleep(self.state.allocate_seconds)  # the carrier is being asked
        view = self.state.allocate(reference, quote_reference, begun=begun)
        return json_response(render.allocation_summary(_base_url(request), view))

    async def get_labels(self, request: Request) -> Response:
        label_format = _label_format(request.path_params.get("format", "PDF"))
        view = self.state.labels(request.path_params["ref"])
        only = None
        if "package" in request.path_params:
            only = _package_index(view, request.path_params["package"])
        if label_format == "PDF":
            data = await run_in_threadpool(documents.label_pdf, view, only)
            content_type = documents.PDF
        else:
            data = await run_in_threadpool(documents.label_zpl, view, only)
            content_type = documents.ZPL
        return json_response({"File": base64.b64encode(data).decode(), "ContentType": content_type})

    async def get_customs_documents(self, request: Request) -> Response:
        # "PRO returns an error" for a consignment that is not allocated yet.
        view = self.state.documents(request.path_params["ref"])
        issued = self.state.now().date()
        forms = await run_in_threadpool(documents.customs_pdfs, view, issued)
        invoice = await run_in_threadpool(documents.commercial_invoice_pdf, view, issued)
        body: dict[str, list[dict[str, str]]] = {
            "CommercialInvoiceDocuments": [],
            "CN22Documents": [],
            "CN23Documents": [],
        }
        if invoice is not None:
            body["CommercialInvoiceDocuments"].append(_document(f"INV_{view.reference}", invoice))
        for key, pdf in forms:
            body[f"{key[:4]}Documents"].append(_document(key, pdf))
        return json_response(body)

    async def manifest_from_query(self, request: Request) -> Response:
        # Sorted's docs give both PUT (the flow page) and POST (the reference): both work.
        query = parse_manifest_query(parse_json_object(await request.body()))
        queued, failed = self.state.manifest(query)
        found = len(queued) + len(failed)
        message = (
            f"Query found {found} consignment(s). {len(queued)} successfully queued to "
            f"manifest. {len(failed)} failed to be added to the queue"
        )
        return json_response({"Message": message, "FailedConsignments": failed})

    # -- the rest of the consignment API -------------------------------------------------
    async def get_consignment(self, request: Request) -> Response:
        return json_response(render.consignment(self.state.view(request.path_params["ref"])))

    async def search_consignments(self, request: Request) -> Response:
        """Search Consignments: `{Count, ConsignmentSummaries}`; Count is every match
        (GUESS: the docs' example can't tell total from page length)."""
        take, skip = request.path_params["take"], request.path_params["skip"]
        found = self.state.search(search.matcher(request.query_params))
        page = found[skip : skip + take] if take > 0 else []
        base = _base_url(request)
        return json_response(
            {"Count": len(found), "ConsignmentSummaries": [render.summary(base, v) for v in page]}
        )

    async def update_consignment(self, request: Request) -> Response:
        """A full replace: what the body leaves out is gone (Packages excepted, see state)."""
        try:
            parsed = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise ApiProblem(400, "MalformedBody", "The body must be a JSON object.") from exc
        # CONFLICT: "multiple consignment objects" in the help text, one object in the
        # example and both SDKs: a one-element array is taken too.
        if isinstance(parsed, list) and len(parsed) == 1:
            parsed = parsed[0]
        if not isinstance(parsed, dict):
            raise ApiProblem(400, "MalformedBody", "The body must be a JSON object.")
        reference = parsed.get("Reference")
        if not isinstance(reference, str) or not reference:
            raise ApiProblem(
                400,
                "ValidationError",
                "Reference is required.",
                [Detail("Required", "Reference", "Reference is required.")],
            )
        current = self.state.view(reference)
        packages_given = bool(parsed.get("Packages"))
        body = dict(parsed)
        if not packages_given:
            body["Packages"] = [p.wire for p in current.request.packages]
        new = parse_create(body)
        self.state.update(reference, new, packages_given=packages_given)
        href = f"{_base_url(request)}/consignments/{current.reference}"
        return json_response([{"Rel": "Link", "Href": href}])

    async def update_address(self, request: Request) -> Response:
        reference = request.path_params["ref"]
        address = parse_address(parse_json_object(await request.body()))
        self.state.update_address(reference, address)
        return _no_body()

    async def get_tracking(self, request: Request) -> Response:
        """Get Tracking Events: packages -> legs -> events (see bot/sandbox/tracking.py)."""
        view = self.state.view(request.path_params["ref"])
        return json_response(tracking.tracking_response(view))

    async def get_tracking_flattened(self, request: Request) -> Response:
        """Get Events Per Package: packages -> events, each naming its carrier service."""
        view = self.state.view(request.path_params["ref"])
        return json_response(tracking.flattened_response(view))

    async def get_state_events(self, request: Request) -> Response:
        """A bare array of ConsignmentPayload: one per state change in [Start, End)."""
        if not self.state.state_events_enabled:
            return await self._on_no_route(request, HTTPException(404))
        states, start, end = state_events.parse_state_query(parse_json_object(await request.body()))
        found = self.state.state_events(states, start, end)
        return json_response([state_events.state_payload(view, state) for view, state in found])

    async def get_late(self, request: Request) -> Response:
        late = self.state.late()
        return json_response(
            {
                "TotalNumberOfLateConsignments": len(late),
                "ConsignmentSummaries": [state_events.late_row(view) for view in late],
            }
        )

    async def cancel(self, request: Request) -> Response:
        self.state.cancel(request.path_params["ref"])
        return _no_body()

    async def deallocate(self, request: Request) -> Response:
        self.state.deallocate(request.path_params["ref"])
        return _no_body()

    async def set_ready_to_ship(self, request: Request) -> Response:
        ready = request.url.path.endswith("/setreadytoship")
        try:
            references = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise ApiProblem(400, "MalformedBody", "The body must be a JSON array.") from exc
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise ApiProblem(400, "MalformedBody", "The body must be a JSON array of references.")
        results = []
        for reference in references:
            try:
                message = self.state.set_ready_to_ship(reference, ready)
                results.append(_success(request, reference.upper(), message))
            except ApiProblem as problem:
                results.append(
                    {**_success(request, reference, problem.message), "IsSuccess": False}
                )
        return json_response(results)

    # -- control ----------------------------------------------------------------------
    async def faults_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            fault = parse_fault(parse_json_object(await request.body()))
            self.faults.arm(fault)
            return json_response({"armed": fault.to_json()}, 201)
        if request.method == "DELETE":
            return json_response({"cleared": self.faults.clear()})
        return json_response(self.faults.armed())

    async def requests_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            return json_response({"cleared": self.requests.clear()})
        return json_response(self.requests.entries())

    async def clock_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            body = parse_json_object(await request.body())
            seconds = seconds_field(body, "advance_seconds")
            if seconds is None:
                raise ApiProblem(
                    400,
                    "ValidationError",
                    "advance_seconds is required.",
                    [Detail("Required", "advance_seconds", "advance_seconds is required.")],
                )
            self.state.advance_clock(seconds)
        return json_response({"now": self.state.now().isoformat()})

    async def journey_endpoint(self, request: Request) -> Response:
        """`{"reference": "EC-…", "states": ["InTransit", "Lost"]}`: what happens to it after
        its manifest, one state per tracking step (tests and the demo choose outcomes).
        `"handed_in": true`: a return's customer hands it in now, and its journey starts."""
        body = parse_json_object(await request.body())
        states = body.get("states")
        if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
            raise ApiProblem(400, "ValidationError", "states must be a list of state names.")
        handed_in = body.get("handed_in") is True
        reference = str(body.get("reference") or "")
        view = self.state.set_journey(reference, tuple(states), handed_in=handed_in)
        return json_response({"reference": view.reference, "state": view.state})

    async def reset_endpoint(self, request: Request) -> Response:
        self.reset()
        return json_response({"reset": True})

    async def settings_endpoint(self, request: Request) -> Response:
        if request.method == "POST":
            body = parse_json_object(await request.body())
            latency = seconds_field(body, "latency_seconds")
            self.state.set_timing(
                quote_ttl_seconds=seconds_field(body, "quote_ttl_seconds"),
                tracking_step_seconds=seconds_field(body, "tracking_step_seconds"),
                allocate_seconds=seconds_field(body, "allocate_seconds"),
                exception_share=seconds_field(body, "exception_share"),
            )
            if latency is not None:
                self.gateway.latency_seconds = latency
            every = body.get("quote_every_direction")
            if isinstance(every, bool):
                self.state.set_quote_every_direction(every)
            if isinstance(body.get("state_events"), bool):
                self.state.state_events_enabled = body["state_events"]
        return json_response(
            {
                "quote_ttl_seconds": self.state.quote_ttl.total_seconds(),
                "tracking_step_seconds": self.state.tracking_step.total_seconds(),
                "latency_seconds": self.gateway.latency_seconds,
                "allocate_seconds": self.state.allocate_seconds,
                "exception_share": self.state.exception_share,
                "state_events": self.state.state_events_enabled,
                "api_key_required": self.gateway.api_key is not None,
                "quote_every_direction": self.state.quote_every_direction,
            }
        )


def _label_format(raw: str) -> str:
    label_format = raw.upper()
    if label_format == "PNG":
        message = "Get Consignment Labels does not support PNG labels; ask for PDF or ZPL."
    elif label_format not in LABEL_FORMATS:
        message = f"Label format {raw!r} is not one of PDF, ZPL or ZPLII."
    else:
        return label_format
    raise ApiProblem(
        400, "UnsupportedLabelFormat", message, [Detail("Invalid", "labelFormat", message)]
    )


def _package_index(view: ConsignmentView, package_reference: str) -> int:
    try:
        return view.package_references.index(package_reference.upper())
    except ValueError:
        raise ApiProblem(
            404,
            "PackageNotFound",
            f"Package {package_reference} not found in consignment {view.reference}",
        ) from None


def _document(key: str, pdf: bytes) -> dict[str, str]:
    return {"Key": key, "Value": base64.b64encode(pdf).decode()}
