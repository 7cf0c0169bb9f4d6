"""Settings from the environment (and an optional `.env`).

The variable names are a contract: tools outside the code start the bot with them.
Problems are collected per variable, so start-up can print one line each and exit 2
instead of a traceback (or, worse, a server that answers 500 to every request).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.carrier.customs import (
    DEFAULT_SHIPPING_TERMS,
    SHIPPING_TERMS,
    CustomsProfile,
    parse_category_overrides,
)
from bot.intake.presets import ParcelPreset, parse_parcel_presets

SLACK_DEFAULT_API_URL = "https://slack.com/api/"
SORTED_PRODUCTION_URL = "https://api.electioapp.com"
SORTED_SANDBOX_URL = "https://apisandbox.electioapp.com"
# The location the local sandbox carrier knows; used when we run against our own sandbox.
SANDBOX_SHIPPING_LOCATION = "SHIPBOT_SANDBOX_DC"
# Sent when we talk to a sandbox started separately and no key was given.
PLACEHOLDER_API_KEY = "shipbot-sandbox-key"

Command = Literal["serve-socket", "serve-http", "sandbox", "demo"]


class CarrierMode(StrEnum):
    LOCAL_SANDBOX = "local sandbox (in-process)"
    REMOTE_SANDBOX = "sandbox at ELECTIO_API_URL"
    SORTED = "Sorted PRO"


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


UserIds = Annotated[list[str], NoDecode]
ParcelPresets = Annotated[tuple[ParcelPreset, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_DEFAULT_API_URL

    electio_api_key: str = ""
    electio_api_url: str = ""
    # "sorted": production, so a missing ELECTIO_API_KEY stops `serve`; "sandbox": always a
    # sandbox carrier, even with a key set; unset: Sorted PRO with a key, else a sandbox.
    shipbot_carrier: Literal["", "sorted", "sandbox"] = ""
    # The docs disagree on Manifest From Query's method (PUT in the flow page, POST in the
    # reference pages); POST is the likelier truth, and this setting lets an operator switch.
    electio_manifest_method: Literal["POST", "PUT"] = "POST"
    electio_connect_timeout: float = Field(default=5.0, gt=0)
    electio_read_timeout: float = Field(default=30.0, gt=0)

    shipbot_shipping_location: str = ""
    shipbot_db: str = "shipbot.db"
    shipbot_manifest_users: UserIds = Field(default_factory=list)
    # Who may do what (Slack user IDs; empty = everyone), checked before any carrier call.
    shipbot_ship_users: UserIds = Field(default_factory=list)
    shipbot_cancel_users: UserIds = Field(default_factory=list)
    shipbot_approvers: UserIds = Field(default_factory=list)
    # Who may look up consignments of every channel (status, find, audit ...); empty = nobody:
    # everyone else sees the consignments of the channel they ask in, and their own.
    shipbot_auditors: UserIds = Field(default_factory=list)
    # Graceful stop: how long SIGTERM waits for carrier calls in flight (above the read timeout).
    shipbot_stop_grace: float = Field(default=40.0, ge=0)
    # A quote dearer than this (gross, in the quote's currency) waits for an approver.
    shipbot_approval_above: Decimal | None = Field(default=None, ge=0)
    # Customs for parcels abroad (the Brexit guide's list). The form's reasons map to PRO's
    # CategoryType enum; "Sale=Other,Gift=Gift" overrides entries of the default mapping.
    shipbot_customs_categories: str = ""
    shipbot_shipping_terms: str = DEFAULT_SHIPPING_TERMS
    # Sent when set; with a real key and any of them unset, `serve` says so at start-up.
    shipbot_shippers_vat_number: str = ""
    shipbot_shippers_eori: str = ""
    shipbot_designated_person: str = ""
    shipbot_timezone: str = "Europe/London"
    shipbot_workers: int = Field(default=32, ge=1, le=64)
    # How long a write waits for a database another program (a backup, sqlite3) holds locked;
    # past it the step fails with "database is locked" and its job is tried again later.
    shipbot_db_busy_timeout: float = Field(default=10.0, gt=0, le=600)
    # How often (seconds) the bot looks for a consignment left in a step with no job behind it.
    shipbot_sweep_every: float = Field(default=30.0, gt=0, le=3600)
    # Slack's rate limits (bot/slack/pacing.py) times this: only a stand-in Slack that runs its
    # limits faster (tests, benchmarks) wants anything but 1.
    shipbot_slack_rate_scale: float = Field(default=1.0, gt=0, le=1000)
    shipbot_log_level: str = "INFO"
    # `json`: one JSON object a line (bot/logfmt.py), for a log collector; `text`: plain lines.
    shipbot_log_format: Literal["text", "json"] = "text"
    # `Small box=30x20x10@1.0;Mailer=35x25x3@0.3`: the form's first select fills size and weight.
    shipbot_parcel_presets: ParcelPresets = ()
    # The delivery watcher (docs/watcher.md): how often it asks Sorted PRO what happened
    # since, where exceptions of any consignment of the account go, who is told of ours
    # (user or group ids; empty = the agent who shipped it), and when the late list goes out.
    shipbot_track_every: float = Field(default=300.0, gt=0)
    shipbot_exceptions_channel: str = ""
    shipbot_exceptions_notify: UserIds = Field(default_factory=list)
    shipbot_digest_at: str = "09:00"
    # Where the state events query is refused: Get Consignment calls a minute, at most.
    shipbot_track_per_minute: int = Field(default=30, ge=1, le=600)

    _split = field_validator(
        "shipbot_manifest_users",
        "shipbot_ship_users",
        "shipbot_cancel_users",
        "shipbot_approvers",
        "shipbot_auditors",
        "shipbot_exceptions_notify",
        mode="before",
    )(_split_ids)

    @field_validator("shipbot_digest_at")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, sep, minutes = value.strip().partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError("must be HH:MM (24-hour, the team's time zone), e.g. 09:00")
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError("must be a time of day, 00:00 to 23:59")
        return f"{int(hours):02d}:{minutes}"

    @property
    def digest_time(self) -> tuple[int, int]:
        hours, _, minutes = self.shipbot_digest_at.partition(":")
        return int(hours), int(minutes)

    @field_validator("shipbot_parcel_presets", mode="before")
    @classmethod
    def _parse_presets(cls, value: object) -> object:
        return parse_parcel_presets(value) if isinstance(value, str) else value

    @field_validator("shipbot_approval_above", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shipbot_customs_categories")
    @classmethod
    def _known_categories(cls, value: str) -> str:
        parse_category_overrides(value)  # ValueError names the bad entry
        return value

    @field_validator("shipbot_shipping_terms")
    @classmethod
    def _known_terms(cls, value: str) -> str:
        terms = value.strip().upper() or DEFAULT_SHIPPING_TERMS
        if terms not in SHIPPING_TERMS:
            raise ValueError(f"not an Incoterm PRO takes (one of {', '.join(SHIPPING_TERMS)})")
        return terms

    # -- derived ------------------------------------------------------------------
    @property
    def carrier_mode(self) -> CarrierMode:
        if self.shipbot_carrier == "sorted":
            return CarrierMode.SORTED
        if self.electio_api_key and self.shipbot_carrier != "sandbox":
            return CarrierMode.SORTED
        if self.electio_api_url:
            return CarrierMode.REMOTE_SANDBOX
        return CarrierMode.LOCAL_SANDBOX

    @property
    def carrier_url(self) -> str:
        """Base URL for the carrier; empty when the local sandbox is still to be started."""
        if self.carrier_mode is CarrierMode.SORTED:
            return (self.electio_api_url or SORTED_PRODUCTION_URL).rstrip("/")
        return self.electio_api_url.rstrip("/")

    @property
    def carrier_is_sandbox(self) -> bool:
        """Nothing is shipped: our sandbox, or Sorted's own sandbox host. Then the start line
        warns and every channel message, quote list and label says so."""
        if self.carrier_mode is not CarrierMode.SORTED:
            return True
        return urlparse(self.carrier_url).netloc == urlparse(SORTED_SANDBOX_URL).netloc

    @property
    def carrier_api_key(self) -> str:
        return self.electio_api_key or PLACEHOLDER_API_KEY

    @property
    def shipping_location(self) -> str:
        return self.shipbot_shipping_location or SANDBOX_SHIPPING_LOCATION

    @property
    def slack_base_url(self) -> str:
        # WebClient joins with urljoin: a base with a path needs its trailing slash.
        url = self.slack_api_url
        return url if url.endswith("/") else url + "/"

    @property
    def customs_profile(self) -> CustomsProfile:
        return CustomsProfile.build(
            overrides=parse_category_overrides(self.shipbot_customs_categories),
            shipping_terms=self.shipbot_shipping_terms,
            shippers_vat_number=self.shipbot_shippers_vat_number,
            shippers_eori=self.shipbot_shippers_eori,
            designated_person_responsible=self.shipbot_designated_person,
        )

    def customs_notice(self) -> str | None:
        """With a real key: which customs fields PRO will not get, and the variables to set.

        Never a refusal: PRO may still produce documents (or a carrier may not need them).
        """
        if self.carrier_mode is not CarrierMode.SORTED:
            return None
        unset = self.customs_profile.unset_fields()
        if not unset:
            return None
        variables = {
            "ShippersVatNumber": "SHIPBOT_SHIPPERS_VAT_NUMBER",
            "ShippersEORI": "SHIPBOT_SHIPPERS_EORI",
            "DesignatedPersonResponsible": "SHIPBOT_DESIGNATED_PERSON",
        }
        return (
            f"customs for parcels abroad will go without {', '.join(unset)} "
            f"(set {', '.join(variables[name] for name in unset)}); some carriers need them"
        )

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.shipbot_timezone)

    def problems(self, command: Command) -> list[str]:
        """One line per problem, naming the variable, for what `command` needs."""
        found: list[str] = []
        needs_bot = command in ("serve-socket", "serve-http")
        if needs_bot:
            found += _token_problem("SLACK_BOT_TOKEN", self.slack_bot_token, "xoxb-")
        if command == "serve-socket":
            found += _token_problem("SLACK_APP_TOKEN", self.slack_app_token, "xapp-")
        if command == "serve-http" and not self.slack_signing_secret.strip():
            found.append(
                "SLACK_SIGNING_SECRET is empty: copy the Signing Secret from your Slack "
                "app's Basic Information page."
            )
        if needs_bot and self.shipbot_carrier == "sorted" and not self.electio_api_key.strip():
            found.append(
                "ELECTIO_API_KEY is not set, and SHIPBOT_CARRIER=sorted says this is "
                "production: set the key (Sorted PRO > Settings > API keys)."
            )
        if needs_bot:
            found += _url_problem("SLACK_API_URL", self.slack_api_url)
            if self.electio_api_url:
                found += _url_problem("ELECTIO_API_URL", self.electio_api_url)
            sorted_with_key = self.carrier_mode is CarrierMode.SORTED and self.electio_api_key
            if sorted_with_key and not self.shipbot_shipping_location:
                found.append(
                    "SHIPBOT_SHIPPING_LOCATION is empty: with ELECTIO_API_KEY set, give the "
                    "ShippingLocationReference your parcels ship from (Sorted PRO > Settings)."
                )
        try:
            ZoneInfo(self.shipbot_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(
                f"SHIPBOT_TIMEZONE is not a known time zone: {self.shipbot_timezone!r} "
                "(try Europe/London)."
            )
        for name in (
            "shipbot_manifest_users",
            "shipbot_ship_users",
            "shipbot_cancel_users",
            "shipbot_approvers",
            "shipbot_auditors",
        ):
            for user in getattr(self, name):
                if not user.startswith(("U", "W")) or not user.isalnum():
                    found.append(
                        f"{name.upper()} has {user!r}, which is not a Slack user ID "
                        "(U… or W…, comma-separated)."
                    )
        for target in self.shipbot_exceptions_notify:
            if not target.startswith(("U", "W", "S")) or not target.isalnum():
                found.append(
                    f"SHIPBOT_EXCEPTIONS_NOTIFY has {target!r}, which is not a Slack user or "
                    "user group ID (U…, W… or S…, comma-separated)."
                )
        channel = self.shipbot_exceptions_channel
        if channel and not (channel.startswith(("C", "G")) and channel.isalnum()):
            found.append(
                f"SHIPBOT_EXCEPTIONS_CHANNEL is {channel!r}: give the channel's ID (C…), "
                "from its details in Slack."
            )
        return found


def _token_problem(name: str, value: str, prefix: str) -> list[str]:
    if not value:
        return [f"{name} is not set: it should start with {prefix}."]
    if not value.startswith(prefix):
        return [f"{name} should start with {prefix} (got {value[:5]}…)."]
    return []


def _url_problem(name: str, value: str) -> list[str]:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return [f"{name} is not an http(s) URL: {value!r}."]
    return []


def load_settings(**overrides: object) -> tuple[Settings | None, list[str]]:
    """Settings, or the problems that stopped them loading (one line per variable)."""
    try:
        return Settings(**overrides), []  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")  # our own validators' words
            lines.append(f"{name}: {message} (got {error.get('input')!r}).")
        return None, lines
