"""What an agent reads for each carrier failure: one sentence per error kind, in our words."""

from __future__ import annotations

import pytest

from bot.carrier import errors
from bot.desk.messages import carrier_problem

BAD_POSTCODE = errors.ErrorDetail("Invalid", "Destination.Postcode", "bad <postcode>")


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (errors.QuoteExpired("x"), "These quotes expired. Get fresh quotes. Nothing was bought."),
        (
            errors.RateLimited("x", retry_after=3),
            "Sorted PRO is busy right now (too many requests) while allocating. Nothing was "
            "bought. Try again in a minute.",
        ),
        (
            errors.OutcomeUnknown("x"),
            "Sorted PRO didn't answer in time while allocating. Nothing was bought. Try again.",
        ),
        (
            errors.CarrierUnavailable("x"),
            "Sorted PRO isn't answering while allocating. Nothing was bought. Try again in a "
            "minute.",
        ),
        (
            errors.Unauthorized("x"),
            "Sorted PRO refused our API key while allocating. Nothing was bought. Ask whoever "
            "runs shipbot to check ELECTIO_API_KEY.",
        ),
        (
            errors.NotFound("x"),
            "Sorted PRO doesn't know this consignment (while allocating). Nothing was bought.",
        ),
        (
            errors.InvalidRequest("x", details=(BAD_POSTCODE,)),
            "Sorted PRO refused the request while allocating (Destination.Postcode). Nothing "
            "was bought. Check the details.",
        ),
        (
            errors.UnexpectedResponse("x"),
            "Something went wrong while allocating. Nothing was bought. Try again.",
        ),
    ],
)
def test_each_carrier_error_has_its_sentence(exc: errors.CarrierError, said: str) -> None:
    assert carrier_problem("allocate", exc, nothing_bought=True) == said


def test_a_step_without_words_is_named_and_nothing_bought_is_left_out() -> None:
    exc = errors.InvalidRequest("x", details=(BAD_POSTCODE,))
    said = carrier_problem("weigh", exc)
    assert (
        said
        == "Sorted PRO refused the request while weigh (Destination.Postcode). Check the details."
    )
    assert "{" not in carrier_problem("weigh", errors.QuoteExpired("x"))
