"""Reading one modal field at a time: the form's action id, the text cleaner and the reader.

Apart from `forms.py` (what each field must hold) because every form (ship, customs, fix
the address, return) reads its fields the same way: text cleaned of invisible and control
characters, numbers as plain ASCII decimals, and each problem recorded against its block.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

FieldErrors = dict[str, str]
"""block_id -> message; only ids of input blocks, as `ack(response_action="errors")` needs."""

# Every input has a single element, and they all use this action id. A view rebuilt to
# replace what the agent typed (a parcel preset) gives the element a new one, "value.2":
# Slack keeps typed input only while block_id *and* action_id stay the same, so block ids
# (what this parser and `response_action="errors"` use) never change.
ACTION = "value"
_REKEYED_ACTION = re.compile(r"value\.\d{1,6}", re.ASCII)


# re.ASCII everywhere: \d must not accept other scripts' digits.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned code
# points: nothing a label printer or a carrier's API should see.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_ALLOWED_WHITESPACE = frozenset("\t\n\r")
# Emoji building blocks (see _clean): zero-width joiner, variation selector 16, the black
# flag and the tag characters that make it a subdivision flag.
_ZWJ = "\u200d"
# Zero-width non-joiner and joiner: valid inside a word (Persian, Indic scripts).
_WORD_JOINERS = frozenset({"\u200c", _ZWJ})
_VS16 = "\ufe0f"
_BLACK_FLAG = "\U0001f3f4"
_TAG_FIRST, _TAG_LAST, _TAG_END = 0xE0020, 0xE007F, "\U000e007f"
# A number longer than this is junk, not a value (and we never feed junk to Decimal).
MAX_NUMBER_CHARS = 24


def is_form_action(action_id: object) -> bool:
    """The action id of a form input: `ACTION`, or `ACTION` re-keyed by a view update."""
    return action_id == ACTION or (
        isinstance(action_id, str) and _REKEYED_ACTION.fullmatch(action_id) is not None
    )


def form_action(block: Mapping[str, Any]) -> Any:
    """One input block's element state from `state.values[block_id]`, whatever its key."""
    if ACTION in block:
        return block[ACTION]
    return next((state for key, state in block.items() if is_form_action(key)), None)


class FieldReader:
    """Reads one field at a time from `state.values`, collecting errors by block id.

    Getters of required fields return an empty value after recording an error, so callers
    stay simple and only build the model when `errors` is empty.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values if isinstance(values, Mapping) else {}
        self.errors: FieldErrors = {}

    def fail(self, block_id: str, message: str) -> None:
        self.errors.setdefault(block_id, message)

    def _action(self, block_id: str) -> Mapping[str, Any]:
        block = self.values.get(block_id)
        action = form_action(block) if isinstance(block, Mapping) else None
        return action if isinstance(action, Mapping) else {}

    def raw(self, block_id: str) -> str | None:
        """The element's value: None when empty; "\\x00" (junk) when it isn't a string."""
        value = self._action(block_id).get("value")
        if value is None:
            return None
        if not isinstance(value, str):
            return "\x00"
        return value

    def optional_text(self, block_id: str, label: str, max_len: int) -> str | None:
        raw = self.raw(block_id)
        if raw is None:
            return None
        text = clean_text(raw)
        if text is None:
            self.fail(block_id, f"{label} has invisible or control characters: retype it.")
            return None
        if len(text) > max_len:
            self.fail(block_id, f"{label} must be {max_len} characters or fewer.")
            return None
        return text or None

    def text(self, block_id: str, label: str, max_len: int, *, missing: str) -> str:
        text = self.optional_text(block_id, label, max_len)
        if text is None:
            self.fail(block_id, missing)  # keeps a more specific error already recorded
            return ""
        return text

    def choice(self, block_id: str, allowed: Mapping[str, str], *, missing: str) -> str:
        option = self._action(block_id).get("selected_option")
        value = option.get("value") if isinstance(option, Mapping) else None
        if isinstance(value, str) and value in allowed:
            return value
        self.fail(block_id, missing)
        return ""

    def decimal(
        self,
        block_id: str,
        low: Decimal,
        high: Decimal,
        places: int,
        *,
        missing: str,
        not_number: str,
        out_of_range: str,
    ) -> Decimal:
        raw = self.raw(block_id)
        text = raw.strip() if raw is not None else ""
        if not text:
            self.fail(block_id, missing)
            return Decimal(0)
        number = parse_decimal(text)
        if number is None:
            self.fail(block_id, not_number)
            return Decimal(0)
        if not low <= number <= high:
            self.fail(block_id, out_of_range)
            return Decimal(0)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.fail(block_id, f"{out_of_range[:-1]}, with at most {places} decimal places.")
            return Decimal(0)
        return number


def clean_text(raw: str) -> str | None:
    """Trimmed, whitespace runs folded to one space, NFC; None if it holds junk characters.

    A zero-width non-joiner or joiner (U+200C, U+200D) between two letters stays: Persian and
    Indic names need them (می‌خواهم, ಕ್‍ಷ); at either end of the field, or beside a space or
    a digit, it only hides text and is refused, as is every other invisible or bidi control.
    The format characters that emoji are built of stay valid where they build an emoji: a
    zero-width joiner between two emoji (👨‍👩‍👧‍👦, 🏳️‍🌈) and the tag characters of a
    subdivision flag (Scotland's, England's). Anywhere else they hide text, and are refused.
    """
    for i, char in enumerate(raw):
        if char in _ALLOWED_WHITESPACE:
            continue
        if unicodedata.category(char) not in _BAD_CATEGORIES:
            continue
        if char == _ZWJ and 0 < i < len(raw) - 1 and _joins(raw[i - 1], raw[i + 1]):
            continue
        if char in _WORD_JOINERS and 0 < i < len(raw) - 1 and _in_word(raw[i - 1], raw[i + 1]):
            continue
        if _TAG_FIRST <= ord(char) <= _TAG_LAST and _in_tag_flag(raw, i):
            continue
        return None
    return unicodedata.normalize("NFC", " ".join(raw.split()))


def _in_word(before: str, after: str) -> bool:
    """Letters (or their marks) on both sides: ZWNJ/ZWJ shaping a Persian or Indic name."""
    return unicodedata.category(before)[0] in "LM" and unicodedata.category(after)[0] in "LM"


def _is_emoji(char: str) -> bool:
    """Pictographs, symbols and skin tones (So, Sk); VS16 ends an emoji too (🏳️ is 🏳 + VS16)."""
    return char == _VS16 or unicodedata.category(char) in ("So", "Sk")


def _joins(before: str, after: str) -> bool:
    return _is_emoji(before) and unicodedata.category(after) == "So"


def _in_tag_flag(raw: str, i: int) -> bool:
    """Tag characters after 🏴, up to the cancel tag that closes the flag."""
    start = i
    while start > 0 and _TAG_FIRST <= ord(raw[start - 1]) <= _TAG_LAST:
        start -= 1
    if start == 0 or raw[start - 1] != _BLACK_FLAG:
        return False
    end = i
    while end < len(raw) and _TAG_FIRST <= ord(raw[end]) <= _TAG_LAST and raw[end] != _TAG_END:
        end += 1
    return end < len(raw) and raw[end] == _TAG_END


def parse_decimal(text: str) -> Decimal | None:
    """Plain ASCII decimals only: no "NaN", "Infinity", "1e3", "1,5" or other scripts' digits."""
    if len(text) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)
