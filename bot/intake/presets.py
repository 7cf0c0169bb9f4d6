"""Parcel presets: the boxes a team ships every day, named once in SHIPBOT_PARCEL_PRESETS.

`Small box=30x20x10@1.0;Mailer=35x25x3@0.3` (cm and kg). Each preset is checked against the
same limits as the form, so choosing one can never fill in a size the form would refuse.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bot.intake.forms import (
    MAX_LENGTH_PLUS_GIRTH_CM,
    MAX_SIDE_CM,
    MAX_WEIGHT_KG,
    MIN_SIDE_CM,
    MIN_WEIGHT_KG,
)
from bot.models import Parcel

MAX_PRESETS = 20
MAX_PRESET_NAME = 40
EXAMPLE = "Small box=30x20x10@1.0;Mailer=35x25x3@0.3"

_SIDE_PLACES = 1
_WEIGHT_PLACES = 3
_NUM = r"(\d{1,4}(?:\.\d{1,4})?)"
_SIZE = re.compile(
    rf"{_NUM}\s*(?:cm)?\s*[x×X*]\s*{_NUM}\s*(?:cm)?\s*[x×X*]\s*{_NUM}\s*(?:cm)?"
    rf"\s*@\s*{_NUM}\s*(?:kg)?",
    re.ASCII | re.IGNORECASE,
)


class ParcelPreset(BaseModel):
    """A named parcel size and weight; `name` is also the select option's value."""

    model_config = ConfigDict(frozen=True)

    name: str
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    weight_kg: Decimal

    @property
    def parcel(self) -> Parcel:
        return Parcel(
            weight_kg=self.weight_kg,
            length_cm=self.length_cm,
            width_cm=self.width_cm,
            height_cm=self.height_cm,
        )

    def describe(self) -> str:
        """ "30×20×10 cm, 1.0 kg": how the select shows it next to the name."""
        sides = "×".join(f"{side:f}" for side in (self.length_cm, self.width_cm, self.height_cm))
        return f"{sides} cm, {self.weight_kg:f} kg"


def parse_parcel_presets(text: str) -> tuple[ParcelPreset, ...]:
    """`Name=LxWxH@kg;…` -> presets, in order; ValueError with one sentence saying what's wrong.

    Empty items (a trailing `;`) are ignored, so an empty value means "no presets".
    """
    items = [item.strip() for item in text.split(";") if item.strip()]
    if len(items) > MAX_PRESETS:
        raise ValueError(f"has {len(items)} presets; at most {MAX_PRESETS} fit the form's select")
    presets: list[ParcelPreset] = []
    seen: set[str] = set()
    for item in items:
        preset = _preset(item)
        key = preset.name.casefold()
        if key in seen:
            raise ValueError(f"names {preset.name!r} twice; each preset needs its own name")
        seen.add(key)
        presets.append(preset)
    return tuple(presets)


def preset_named(presets: Iterable[ParcelPreset], name: str) -> ParcelPreset | None:
    """The preset a select option's value names (None if settings changed since the form)."""
    return next((preset for preset in presets if preset.name == name), None)


def _preset(item: str) -> ParcelPreset:
    shape = f"{item!r} should look like Name=LxWxH@kg, for example {EXAMPLE.split(';')[0]}"
    name, equals, size = item.rpartition("=")
    name = " ".join(name.split())
    if not equals or not name:
        raise ValueError(shape)
    if len(name) > MAX_PRESET_NAME:
        raise ValueError(f"preset name {name[:20]!r}… is over {MAX_PRESET_NAME} characters")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name):
        raise ValueError(f"preset name {name!r} has invisible or control characters")
    match = _SIZE.fullmatch(size.strip())
    if match is None:
        raise ValueError(shape)
    length, width, height, weight = (Decimal(group) for group in match.groups())
    for side in (length, width, height):
        if not MIN_SIDE_CM <= side <= MAX_SIDE_CM or _places(side) > _SIDE_PLACES:
            raise ValueError(
                f"{name!r}: each side must be {MIN_SIDE_CM} to {MAX_SIDE_CM} cm, "
                f"with at most {_SIDE_PLACES} decimal place"
            )
    if not MIN_WEIGHT_KG <= weight <= MAX_WEIGHT_KG or _places(weight) > _WEIGHT_PLACES:
        raise ValueError(
            f"{name!r}: weight must be {MIN_WEIGHT_KG} to {MAX_WEIGHT_KG} kg, "
            f"with at most {_WEIGHT_PLACES} decimal places"
        )
    sides = sorted((length, width, height), reverse=True)
    if sides[0] + 2 * (sides[1] + sides[2]) > MAX_LENGTH_PLUS_GIRTH_CM:
        raise ValueError(
            f"{name!r} is too big: longest side + 2 × the other two must be at most "
            f"{MAX_LENGTH_PLUS_GIRTH_CM} cm"
        )
    return ParcelPreset(
        name=name, length_cm=length, width_cm=width, height_cm=height, weight_kg=weight
    )


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
