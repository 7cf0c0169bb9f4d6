"""One logical call to Sorted PRO: HTTP, retries and the mapping of replies to errors.

Retry policy, and why:
- 429 on any method: the gateway refuses before the backend sees the request, so even a
  PUT/POST is safe to repeat. We wait `Retry-After` (capped) and try again.
- A connection that never opened (refused, connect timeout, no pooled connection) on any
  method: nothing was sent.
- 5xx, read timeouts and dropped connections on GET only: a PUT/POST that may have taken
  effect is never repeated; the caller gets `OutcomeUnknown` and should look first.

Kept apart from `client.py` (the endpoints) so that each endpoint reads as its route and
its mapping, and the policy is in one place.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypedDict, TypeVar
from urllib.parse import quote as quote_segment

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from bot.carrier import wire
from bot.carrier.errors import (
    CarrierError,
    CarrierUnavailable,
    ErrorDetail,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    QuoteExpired,
    RateLimited,
    Unauthorized,
    UnexpectedResponse,
)
from bot.closing import Closes

log = logging.getLogger("shipbot.carrier")

API_VERSION = "1.1"
Method = Literal["GET", "POST", "PUT"]
T = TypeVar("T")
# Told of every HTTP attempt: method, route (`/quotes/consignment/{}`), status (None: no
# reply), the error's type, seconds.
CallObserver = Callable[[str, str, int | None, str | None, float], None]

# Nothing reached the server: safe to repeat whatever the method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Our own mistakes or configuration: repeating cannot help, and nothing was sent either.
_NOT_SENT = (*_NEVER_SENT, httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)

_BACKOFF_BASE = 0.2
_BACKOFF_MAX = 2.0
_JITTER = 0.05


def _utc_now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process (loading the CA bundle takes ~50 ms), shared by every client."""
    return httpx.create_ssl_context()


class HttpOptions(TypedDict, total=False):
    """The transport's options, as `CarrierClient` and `carrier_client` pass them on."""

    connect_timeout: float
    read_timeout: float
    max_attempts: int
    max_retry_after: float
    backoff: float
    clock: Callable[[], datetime]


class CarrierHttp(Closes):
    """Thread-safe: one shared `httpx.Client`; each call builds its own retry state."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        backoff: float = _BACKOFF_BASE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._clock = clock
        # The bot's metrics (bot/metrics.py) attach here; a client alone tells nobody.
        self.observe: CallObserver | None = None
        # `backoff` is the first wait between retries (doubling); tests make it tiny.
        self._backoff = wait_exponential(multiplier=backoff, max=_BACKOFF_MAX) + wait_random(
            0, _JITTER * backoff / _BACKOFF_BASE
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={
                "ocp-apim-subscription-key": api_key,
                "electio-api-version": API_VERSION,
                "Accept": "application/json",
                "User-Agent": "shipbot",
            },
            follow_redirects=False,
            verify=_tls_context(),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    # -- one call ----------------------------------------------------------------------------------

    def _call(
        self,
        method: Method,
        path: str,
        body: wire.WireModel | None = None,
        *,
        raw: object = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One logical call: retried per the policy above, then a 2xx or a CarrierError.

        `raw` is a JSON body we pass through as it is (e.g. a record read from PRO)."""
        content = body.to_wire() if body is not None else None
        if raw is not None:
            content = json.dumps(raw, ensure_ascii=False).encode()
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=(
                retry_if_result(lambda response: _retryable_status(response, method))
                | retry_if_exception(lambda exc: _retryable_exception(exc, method))
            ),
            retry_error_callback=_last_outcome,
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(self._send, method, path, content, params)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, method, path) from exc
        self._raise_for_status(method, path, response)
        return response

    def _send(
        self,
        method: Method,
        path: str,
        content: bytes | None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if content is not None else None
        started = time.monotonic()
        try:
            response = self._http.request(
                method, path, content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            seconds = time.monotonic() - started
            log.debug("%s %s -> %s after %.0f ms", method, path, type(exc).__name__, seconds * 1e3)
            if self.observe is not None:
                self.observe(method, _template(path), None, type(exc).__name__, seconds)
            raise
        if self.observe is not None:
            seconds = time.monotonic() - started
            self.observe(method, _template(path), response.status_code, None, seconds)
        correlation = _error_body(response).correlation_id if response.status_code >= 400 else None
        log.debug(
            "%s %s -> %d in %.0f ms (correlation %s)",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            correlation or "-",
        )
        return response

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After (429, or a 503 that sends one), capped; else a short backoff."""
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            if isinstance(response, httpx.Response):
                hint = _retry_after(response, self._now())
                if hint is not None:
                    return min(hint, self._max_retry_after)
        return float(self._backoff(state))

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    def _raise_for_status(self, method: Method, path: str, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        body = _error_body(response)
        fields: dict[str, Any] = {
            "status": status,
            "code": str(body.code) if body.code is not None else None,
            "correlation_id": body.correlation_id,
            "details": tuple(
                ErrorDetail(code=d.code, target=d.target, message=d.message) for d in body.details
            ),
        }
        said = body.message or f"HTTP {status} {response.reason_phrase}".strip()
        where = f"{method} {path}"
        if status == 401:
            raise Unauthorized(f"Sorted PRO refused the API key on {where}: {said}", **fields)
        if status == 404:
            raise NotFound(f"Sorted PRO found nothing at {where}: {said}", **fields)
        if status == 429:
            raise RateLimited(
                f"Sorted PRO is rate-limiting us ({where}): {said}",
                retry_after=_retry_after(response, self._now()),
                **fields,
            )
        if 400 <= status < 500 and fields["code"] == "QuoteExpired":
            # GUESS: the real API's code strings are undocumented; "QuoteExpired" is the
            # sandbox's. Either way the flow gets one exception for "get fresh quotes".
            raise QuoteExpired(f"Sorted PRO says the quote expired ({where}): {said}", **fields)
        if 400 <= status < 500:
            raise InvalidRequest(f"Sorted PRO refused {where}: {said}", **fields)
        if status == 504 and method != "GET":
            # The gateway gave up waiting for the backend, which may still have done it:
            # like a lost reply, the caller must look before trying again.
            raise OutcomeUnknown(f"Sorted PRO's gateway timed out on {where}: {said}", **fields)
        if status >= 500:
            raise CarrierUnavailable(f"Sorted PRO failed on {where}: {said}", **fields)
        raise UnexpectedResponse(f"Sorted PRO answered {where} with HTTP {status}", **fields)

    def _read(
        self, response: httpx.Response, adapter: TypeAdapter[Any], convert: Callable[[Any], T]
    ) -> T:
        """Parse a 2xx body and map it; any surprise becomes UnexpectedResponse."""
        where = f"{response.request.method} {response.request.url.path}"
        try:
            parsed = adapter.validate_json(response.content)
            return convert(parsed)
        except ValidationError as exc:
            problem = _summarise_validation(exc)
            raise UnexpectedResponse(
                f"Sorted PRO's answer to {where} is not in the documented shape: {problem}",
                status=response.status_code,
            ) from exc
        except UnexpectedResponse as exc:
            raise UnexpectedResponse(
                f"Sorted PRO's answer to {where} is unusable: {exc.message}",
                status=response.status_code,
            ) from exc
        except CarrierError as exc:
            if exc.status is None:
                exc.status = response.status_code
            raise


_ERROR = TypeAdapter(wire.ApiErrorBody)
ANY_JSON: TypeAdapter[Any] = TypeAdapter(Any)

# -- helpers ----------------------------------------------------------------------------------


def json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedResponse("expected a JSON object")
    return value


class Route(str):
    """A path that remembers its route (`/quotes/consignment/{}`): the metrics' label."""

    template: str


def route(template: str, *values: str) -> Route:
    """The path with each value as one escaped segment; `.template` keeps the route."""
    path = Route(template.format(*(_seg(value) for value in values)))
    path.template = template
    return path


def _template(path: str) -> str:
    return path.template if isinstance(path, Route) else path


def _seg(value: str) -> str:
    """A path segment: references come from people, so nothing may escape the segment."""
    if not value:
        raise ValueError("a reference is required")
    return quote_segment(value, safe="")


def _retryable_status(response: httpx.Response, method: Method) -> bool:
    if response.status_code == 429:
        return True
    return method == "GET" and response.status_code >= 500


def _retryable_exception(exc: BaseException, method: Method) -> bool:
    if isinstance(exc, _NEVER_SENT):
        return True
    if isinstance(exc, _NOT_SENT):
        return False
    return method == "GET" and isinstance(exc, httpx.TransportError)


def _last_outcome(state: RetryCallState) -> Any:
    """Out of attempts: hand back the last response (or raise its exception) for mapping."""
    assert state.outcome is not None
    return state.outcome.result()


def _transport_error(exc: httpx.HTTPError, method: Method, path: str) -> CarrierError:
    where = f"{method} {path}"
    kind = type(exc).__name__
    if isinstance(exc, _NOT_SENT):
        return CarrierUnavailable(f"Could not reach Sorted PRO for {where} ({kind})")
    if method == "GET":
        return CarrierUnavailable(f"Sorted PRO did not answer {where} ({kind})")
    return OutcomeUnknown(
        f"Sorted PRO's answer to {where} was lost ({kind}); it may have taken effect"
    )


def _error_body(response: httpx.Response) -> wire.ApiErrorBody:
    """The error fields when the body has them; an empty model for anything else."""
    try:
        body = _ERROR.validate_json(response.content)
    except ValidationError:
        return wire.ApiErrorBody()
    return body


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds from `Retry-After`: a number of seconds or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def refuse_unsuccessful_result(response: httpx.Response) -> None:
    """Cancel/Deallocate answer 200 with no body (help page, SDK); any 2xx with or without
    a body is success. GUESS, kept as a safety: a body shaped like Set Ready To Ship's
    `[{"IsSuccess": false, "Message": ...}]` is a refusal. Anything else is ignored."""
    try:
        body = ANY_JSON.validate_json(response.content) if response.content else None
    except ValidationError:
        return
    results = body if isinstance(body, list) else [body]
    for result in results:
        if isinstance(result, dict) and result.get("IsSuccess") is False:
            raise InvalidRequest(
                str(result.get("Message") or "Sorted PRO refused the request"),
                status=response.status_code,
            )


def _summarise_validation(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[:1]
    if not first:
        return "unreadable"
    location = ".".join(str(part) for part in first[0]["loc"]) or "body"
    return f"{location}: {first[0]['msg']} ({exc.error_count()} problem(s))"
