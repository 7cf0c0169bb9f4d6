"""How an amount of money is written, in one place: "£1,234.50", or "120.00 CHF".

Plain text, used by the form's parser, its pages and every message; mrkdwn callers escape it
(a carrier's currency code is not ours to trust).
"""

from __future__ import annotations

from decimal import Decimal

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_money(amount: Decimal, currency: str) -> str:
    """ "£1,234.50" for the currencies with a symbol; others as "120.00 CHF"."""
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    shown = f"{amount:,.2f}"
    return f"{symbol}{shown}" if symbol else f"{shown} {code}"
