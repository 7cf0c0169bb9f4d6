"""Settings: the contract's variable names, what each command needs, exit 2 on bad values."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.devslack.server import FakeSlack
from bot.intake.presets import ParcelPreset, parse_parcel_presets, preset_named
from bot.models import ExportReason
from bot.sandbox.server import RunningSandbox
from bot.settings import (
    PLACEHOLDER_API_KEY,
    SANDBOX_SHIPPING_LOCATION,
    SORTED_PRODUCTION_URL,
    CarrierMode,
    Settings,
    load_settings,
)

CONTRACT = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "ELECTIO_API_KEY",
    "ELECTIO_API_URL",
    "SHIPBOT_DB",
    "SHIPBOT_MANIFEST_USERS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "ELECTIO_", "SHIPBOT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_every_contract_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "sec",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "ELECTIO_API_KEY": "key",
        "ELECTIO_API_URL": "https://apisandbox.electioapp.com/",
        "SHIPBOT_DB": "x.db",
        "SHIPBOT_MANIFEST_USERS": "U1, U2,,",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings, errors = load_settings()
    assert errors == [] and settings is not None
    assert settings.slack_bot_token == "xoxb-1"
    assert settings.slack_signing_secret == "sec"
    assert settings.slack_app_token == "xapp-1"
    assert settings.slack_base_url == "http://127.0.0.1:9/api/"
    assert settings.carrier_mode is CarrierMode.SORTED
    assert settings.carrier_url == "https://apisandbox.electioapp.com"
    assert settings.carrier_api_key == "key"
    assert settings.shipbot_db == "x.db"
    assert settings.shipbot_manifest_users == ["U1", "U2"]
    assert set(CONTRACT) <= {name.upper() for name in Settings.model_fields}


def test_carrier_mode_follows_key_and_url() -> None:
    local = Settings(_env_file=None)  # type: ignore[call-arg]
    assert local.carrier_mode is CarrierMode.LOCAL_SANDBOX
    assert local.shipping_location == SANDBOX_SHIPPING_LOCATION
    remote = Settings(_env_file=None, electio_api_url="http://127.0.0.1:8089")  # type: ignore[call-arg]
    assert remote.carrier_mode is CarrierMode.REMOTE_SANDBOX
    assert remote.carrier_api_key == PLACEHOLDER_API_KEY
    sorted_pro = Settings(_env_file=None, electio_api_key="k")  # type: ignore[call-arg]
    assert sorted_pro.carrier_url == SORTED_PRODUCTION_URL


def test_problems_name_the_variable_per_command() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token="xoxp-user-token",
        slack_app_token="",
        slack_api_url="not a url",
        electio_api_key="k",
        shipbot_manifest_users=["alice"],
        shipbot_timezone="Mars/Olympus",
    )
    socket = "\n".join(settings.problems("serve-socket"))
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "SHIPBOT_SHIPPING_LOCATION",
        "SHIPBOT_MANIFEST_USERS",
        "SHIPBOT_TIMEZONE",
    ):
        assert name in socket
    http = "\n".join(settings.problems("serve-http"))
    assert "SLACK_SIGNING_SECRET" in http and "SLACK_APP_TOKEN" not in http
    assert Settings(_env_file=None).problems("demo") == []  # type: ignore[call-arg]
    assert Settings(_env_file=None).problems("sandbox") == []  # type: ignore[call-arg]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ELECTIO_", "SHIPBOT_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _refused(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """The command exits 2 with words for a person, no traceback; what it said."""
    result = _run(args, env, cwd)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    return result.stderr


def test_serve_with_bad_settings_exits_2_with_one_line_each(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "bad", "SHIPBOT_WORKERS": "many"}
    assert "SHIPBOT_WORKERS" in _refused(["serve", "--http", "--port", "0"], env, tmp_path)
    said = _refused(["serve", "--http"], {"SLACK_BOT_TOKEN": "bad"}, tmp_path)
    assert "SLACK_BOT_TOKEN should start with xoxb-" in said
    assert "SLACK_SIGNING_SECRET" in said
    assert "SLACK_APP_TOKEN" in _refused(["serve"], {"SLACK_BOT_TOKEN": "xoxb-ok"}, tmp_path)


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = _run(["--help"], {}, tmp_path)
    assert result.returncode == 0
    for command in ("serve", "sandbox", "demo"):
        assert command in result.stdout
    for command in ("serve", "sandbox", "demo"):
        sub = _run([command, "--help"], {}, tmp_path)
        assert sub.returncode == 0 and "usage: shipbot" in sub.stdout


def test_both_ways_to_run_the_sandbox_take_the_same_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`shipbot sandbox` hands its arguments to the sandbox's one parser."""
    from bot import cli
    from bot.sandbox import server

    said = {}
    for prog, run in (
        ("shipbot sandbox", lambda: cli.main(["sandbox", "--help"])),
        ("python -m bot.sandbox", lambda: server.main(["--help"])),
    ):
        with pytest.raises(SystemExit) as exited:
            run()
        assert exited.value.code == 0
        said[prog] = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    assert said["shipbot sandbox"] == said["python -m bot.sandbox"]
    assert {"--seed-orders", "--progress", "--exceptions", "--api-key"} <= said["shipbot sandbox"]
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--seed-orders", "2"])  # not an option of serve: refused still
    assert exited.value.code == 2


# -- customs settings -----------------------------------------------------------------------


def test_customs_settings_build_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPBOT_CUSTOMS_CATEGORIES", "Sale=Other")
    monkeypatch.setenv("SHIPBOT_SHIPPING_TERMS", "ddp")
    monkeypatch.setenv("SHIPBOT_SHIPPERS_VAT_NUMBER", "GBUNREG")
    monkeypatch.setenv("SHIPBOT_SHIPPERS_EORI", "GB987654312000")
    monkeypatch.setenv("SHIPBOT_DESIGNATED_PERSON", "Pat Shipper")
    settings, errors = load_settings()
    assert errors == [] and settings is not None
    profile = settings.customs_profile
    assert profile.category_for(ExportReason.SALE) == "Other"
    assert profile.category_for(ExportReason.GIFT) == "Gift"
    assert profile.shipping_terms == "DDP"
    assert (profile.shippers_vat_number, profile.shippers_eori) == ("GBUNREG", "GB987654312000")
    assert profile.designated_person_responsible == "Pat Shipper"
    assert profile.unset_fields() == ()


def test_customs_defaults() -> None:
    profile = Settings(_env_file=None).customs_profile  # type: ignore[call-arg]
    assert profile.category_for(ExportReason.SALE) == "SaleOfGoods"
    assert profile.shipping_terms == "DAP"
    assert profile.unset_fields() == (
        "ShippersVatNumber",
        "ShippersEORI",
        "DesignatedPersonResponsible",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHIPBOT_CUSTOMS_CATEGORIES", "Sale=Sale"),
        ("SHIPBOT_CUSTOMS_CATEGORIES", "Bribe=Gift"),
        ("SHIPBOT_SHIPPING_TERMS", "FREE"),
    ],
)
def test_bad_customs_settings_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    settings, errors = load_settings()
    assert settings is None
    [line] = errors
    assert line.startswith(f"{name}:")


def test_customs_notice_only_with_a_real_key_and_a_field_unset() -> None:
    def notice(**values: str) -> str | None:
        return Settings(_env_file=None, **values).customs_notice()  # type: ignore[call-arg]

    assert notice() is None  # the sandbox needs none of them
    assert notice(electio_api_url="http://127.0.0.1:9") is None
    line = notice(electio_api_key="key", shipbot_shippers_eori="GB1")
    assert line is not None
    assert "ShippersVatNumber, DesignatedPersonResponsible" in line
    assert "SHIPBOT_SHIPPERS_VAT_NUMBER, SHIPBOT_DESIGNATED_PERSON" in line
    assert "ShippersEORI" not in line
    complete = {
        "shipbot_shippers_vat_number": "GB2",
        "shipbot_shippers_eori": "GB1",
        "shipbot_designated_person": "Pat",
    }
    assert notice(electio_api_key="key", **complete) is None


def test_serve_with_a_key_says_which_customs_fields_pro_will_not_get(
    tmp_path: Path, fake_slack: FakeSlack, sandbox: RunningSandbox
) -> None:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ELECTIO_", "SHIPBOT_"))
    }
    env = {
        **clean,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake_slack.url,
        "ELECTIO_API_KEY": "a-real-looking-key",
        "ELECTIO_API_URL": sandbox.url,
        "SHIPBOT_SHIPPING_LOCATION": SANDBOX_SHIPPING_LOCATION,
        "SHIPBOT_SHIPPERS_VAT_NUMBER": "GB123456789",
        "SHIPBOT_DB": str(tmp_path / "serve.db"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("shipbot: ready"):
                break
    finally:
        process.terminate()
        process.communicate(timeout=15)
    assert "shipbot: ready" in lines, lines  # it starts: a notice, never a refusal
    customs = [line for line in lines if "customs" in line]
    assert customs == [
        "shipbot: customs for parcels abroad will go without ShippersEORI, "
        "DesignatedPersonResponsible (set SHIPBOT_SHIPPERS_EORI, SHIPBOT_DESIGNATED_PERSON); "
        "some carriers need them"
    ]


# --- parcel presets ------------------------------------------------------------------------


def test_parcel_presets_are_parsed_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SHIPBOT_PARCEL_PRESETS", " Small  box=30x20x10@1.0; Mailer = 35 x 25 x 3.5 @ 0.25kg ;"
    )
    settings, errors = load_settings()
    assert errors == [] and settings is not None
    small, mailer = settings.shipbot_parcel_presets
    assert small == ParcelPreset(
        name="Small box",
        length_cm=Decimal("30"),
        width_cm=Decimal("20"),
        height_cm=Decimal("10"),
        weight_kg=Decimal("1.0"),
    )
    assert (mailer.name, mailer.height_cm, mailer.weight_kg) == (
        "Mailer",
        Decimal("3.5"),
        Decimal("0.25"),
    )
    assert mailer.describe() == "35×25×3.5 cm, 0.25 kg"
    assert preset_named(settings.shipbot_parcel_presets, "Mailer") is mailer
    assert preset_named(settings.shipbot_parcel_presets, "Gone") is None


@pytest.mark.parametrize("value", ["", " ", ";"])
def test_no_parcel_presets_by_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert Settings(_env_file=None).shipbot_parcel_presets == ()  # type: ignore[call-arg]
    monkeypatch.setenv("SHIPBOT_PARCEL_PRESETS", value)
    settings, errors = load_settings()
    assert errors == [] and settings is not None and settings.shipbot_parcel_presets == ()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Small box=30x20@1", "should look like Name=LxWxH@kg"),
        ("30x20x10@1", "should look like Name=LxWxH@kg"),
        ("=30x20x10@1", "should look like Name=LxWxH@kg"),
        ("Box=30x20x10", "should look like Name=LxWxH@kg"),
        ("Box=30,5x20x10@1", "should look like Name=LxWxH@kg"),
        ("Box=thirty x20x10@1", "should look like Name=LxWxH@kg"),
        ("Box=300x20x10@1", "each side must be 1 to 200 cm"),
        ("Box=30.25x20x10@1", "at most 1 decimal place"),
        ("Box=30x20x0@1", "each side must be 1 to 200 cm"),
        ("Box=30x20x10@0", "weight must be 0.01 to 30 kg"),
        ("Box=30x20x10@31", "weight must be 0.01 to 30 kg"),
        ("Box=30x20x10@1.0005", "at most 3 decimal places"),
        ("Box=150x50x50@1", "too big"),
        ("Box=1x1x1@1;box=2x2x2@2", "twice"),
        ("B" * 41 + "=1x1x1@1", "over 40 characters"),
        ("Bo\u200bx=1x1x1@1", "control characters"),
        (";".join(f"Box {n}=1x1x1@1" for n in range(21)), "at most 20"),
    ],
)
def test_a_bad_parcel_preset_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, words: str
) -> None:
    monkeypatch.setenv("SHIPBOT_PARCEL_PRESETS", value)
    settings, errors = load_settings()
    assert settings is None
    [line] = errors
    assert line.startswith("SHIPBOT_PARCEL_PRESETS: ") and words in line, line
    assert "Value error" not in line and "\n" not in line


def test_twenty_presets_of_forty_characters_fit() -> None:
    value = ";".join(f"{n:02d}" + "x" * 38 + "=100x50x50@30" for n in range(20))
    presets = parse_parcel_presets(value)
    assert len(presets) == 20 and all(len(preset.name) == 40 for preset in presets)


def test_serve_with_bad_presets_exits_2_naming_the_variable(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-ok", "SHIPBOT_PARCEL_PRESETS": "Small box=30x20@1"}
    said = _refused(["serve", "--http", "--port", "0"], env, tmp_path)
    lines = [line for line in said.splitlines() if "SHIPBOT_PARCEL_PRESETS" in line]
    assert len(lines) == 1 and "Name=LxWxH@kg" in lines[0]
