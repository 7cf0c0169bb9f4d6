"""The `/ship` command table: one typed row per subcommand, and everything drawn from it.

The table is the one place a subcommand exists. `handlers/commands.py` dispatches through
`answer` (so it routes exactly these names), `/ship help` lists the rows, and the README's
command table and app_manifest.yml's usage hint are drawn from it by `python -m
bot.desk.commands` (tests/test_commands.py checks all four agree). A new subcommand is a
`CommandId` and a row here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blocks import Message
from blocks import help as help_blocks
from blocks import operations as render
from blocks.form_fields import View
from blocks.ids import CommandId
from blocks.payloads import FormMetadata
from bot.core import Asker, Refused, Shipbot
from bot.desk import flow, label, lookup, manifest, messages, prefill, report, rescue, returns
from bot.desk.cancel import cancel_command
from bot.intake.arguments import clean_argument, log_operation, shown

# What a subcommand answers: a private message (the ack), or a form to open after the ack.
Reply = Message | View
Feature = Callable[[Shipbot, str, Asker], Reply]


@dataclass(frozen=True)
class Command:
    """One `/ship` subcommand: what to type, what it says about itself, and what it runs."""

    id: CommandId
    arguments: str  # as the help and the README show them: REFERENCE, [today|week]
    example: str
    help: str  # one line for `/ship help`
    detail: str  # the README's row: the whole behaviour
    run: Feature  # called with the cleaned argument
    needs: str | None = None  # what a missing argument is, when one is required

    @property
    def usage(self) -> str:
        name = f"[{self.id}]" if self.id is DEFAULT else str(self.id)
        return " ".join(part for part in ("/ship", name, self.arguments) if part)

    def argument(self, raw: str) -> str:
        """The text after the name, cleaned; Refused when a required one is missing."""
        text = clean_argument(raw)
        if self.needs and not text:
            raise Refused(
                messages.ARGUMENT_MISSING.format(
                    command=self.id, what=self.needs, example=self.example
                ),
                "no argument",
            )
        return text


def _new(bot: Shipbot, argument: str, asker: Asker) -> View:
    if argument:
        initial = prefill.postcode_initial(argument)
        if initial is None:
            # Said, not dropped: an empty form would leave the agent wondering where it went.
            said = f"`{shown(argument, 30)}`" if argument.isprintable() else "that"
            raise Refused(messages.NOT_A_POSTCODE.format(said=said), "not a postcode")
        return prefill.postcode_form(bot, initial, asker)
    return flow.new_form(
        bot, asker.user, FormMetadata(channel=asker.channel, response_url=asker.response_url)
    )


def _label(bot: Shipbot, argument: str, asker: Asker) -> Message:
    return render.notice(label.label_command(bot, argument, asker))


def _manifest(bot: Shipbot, argument: str, asker: Asker) -> Message:
    manifest.request_manifest(bot, asker)
    return render.notice(messages.MANIFEST_QUEUED)


def _report(bot: Shipbot, argument: str, asker: Asker) -> Message:
    return report.report(bot, asker.user, argument.lower() or "today")


def _help(bot: Shipbot, argument: str, asker: Asker) -> Message:
    return help_blocks.help_message([(c.example, c.help) for c in COMMANDS])


REFERENCE = "a reference, order number or shipper reference"

COMMANDS: tuple[Command, ...] = (
    Command(
        CommandId.NEW,
        "[POSTCODE]",
        "/ship SW1A 2AA",
        "Open the form to ship a parcel (a postcode fills in it and its country): "
        "quotes appear in the thread, pick one.",
        "Opens the form; `/ship` alone does too, and `/ship SW1A 2AA` fills in that postcode "
        "(and its country). Bad fields are answered in the form; a destination outside the UK "
        "adds a customs page.",
        _new,
    ),
    Command(
        CommandId.AGAIN,
        "REFERENCE",
        "/ship again EC-000-05B-MMA",
        "The form filled in from that consignment: recipient, parcels, customs. "
        "Or *Ship again* in its thread.",
        "Opens the form filled in from that consignment (also an order number or shipper "
        "reference): recipient, parcels, contents, value and customs, a new shipper reference, "
        "the order number left for you. The new consignment's channel message says "
        "“🔁 Repeats EC-…”. Only consignments you could look up in this channel.",
        prefill.ship_again_command,
        "a reference or order number",
    ),
    Command(
        CommandId.RETURN,
        "REFERENCE",
        "/ship return EC-000-05B-MMA",
        "A return label: the form filled in from that consignment, the customer as sender. "
        "Or *Return label* in its thread.",
        "Opens the return form filled in from that consignment (also an order number), the "
        "customer as sender; one shipbot did not make is looked up at Sorted PRO and answered "
        "with its card, whose *Return label* takes it over. Or *Return label* in its thread.",
        returns.return_command,
        "a reference or order number",
    ),
    Command(
        CommandId.STATUS,
        "REFERENCE",
        "/ship status EC-000-05B-MMA",
        "State, tracking links, a line for the customer, who did what. "
        "Also takes an order number or shipper reference.",
        "State, carrier and service, tracking numbers with the carrier's tracking link, price, "
        "who did what, a link to the thread, and a sentence to paste to the customer; refreshed "
        "from the carrier. Also takes an order number or shipper reference. One not made in "
        "shipbot is looked up at Sorted PRO by order number, tracking number, `EC-` reference "
        "or postcode, with the buttons its state allows (Get quotes, Ship with another service, "
        "Fix the address, Ship a replacement); any of them takes it over into a thread. See "
        "[docs/delivery-desk.md](docs/delivery-desk.md).",
        rescue.status,
        REFERENCE,
    ),
    Command(
        CommandId.FIND,
        "TEXT",
        "/ship find rosa",
        "Search order numbers, references, recipient names and postcodes.",
        "Consignments whose order number, reference, recipient name or postcode match, newest "
        "first; none in shipbot, then Sorted PRO's.",
        rescue.find,
        "something to look for",
    ),
    Command(
        CommandId.LIST,
        "[open|today|all]",
        "/ship list today",
        "This channel's consignments: `open` (the default), `today` or `all`.",
        "This channel's consignments with state and carrier, 20 a page.",
        lookup.list_page,
    ),
    Command(
        CommandId.LABEL,
        "REFERENCE [pdf|zpl]",
        "/ship label EC-000-05B-MMA zpl",
        "Put the label in the thread again (`pdf` or `zpl`).",
        "Puts the label in the consignment's thread again (from the store: no carrier call "
        "for a PDF).",
        _label,
        "a reference",
    ),
    Command(
        CommandId.REPRINT,
        "REFERENCE [pdf|zpl]",
        "/ship reprint EC-000-05B-MMA",
        "The same as `label`.",
        "The same as `label` (the thread's *Reprint label* button).",
        _label,
        "a reference",
    ),
    Command(
        CommandId.CANCEL,
        "REFERENCE",
        "/ship cancel EC-000-05B-MMA",
        "Cancel with the carrier, after you confirm.",
        "Asks you to confirm, then cancels with the carrier; after a manifest it refuses by "
        "itself and says to call the carrier's desk.",
        cancel_command,
        "a reference",
    ),
    Command(
        CommandId.AUDIT,
        "REFERENCE",
        "/ship audit EC-000-05B-MMA",
        "Every step: who, what, when and how it went.",
        "Every step: who, what, when, outcome.",
        lookup.audit,
        "a reference",
    ),
    Command(
        CommandId.MANIFEST,
        "",
        "/ship manifest",
        "Hand every allocated parcel to the carriers for collection.",
        "Manifests what is allocated at your shipping location with its documents in the "
        "thread; the summary and the marks say only what Sorted PRO confirmed it queued. The "
        "channel gets one summary and each consignment's channel message says ✅ Manifested "
        "(edits queued behind every flow edit, paced under Slack's limit: no per-thread posts). "
        "Limited to `SHIPBOT_MANIFEST_USERS` when set.",
        _manifest,
    ),
    Command(
        CommandId.REPORT,
        "[today|week]",
        "/ship report week",
        "Spend by agent and by carrier (`today` or `week`); a CSV to your DM.",
        "Spend by agent and by carrier (count, net, gross); the same as a CSV in your DM.",
        _report,
    ),
    Command(
        CommandId.HELP,
        "",
        "/ship help",
        "This list.",
        "Every command with an example (drawn from this table), and a *Manifest allocated "
        "parcels* button.",
        _help,
    ),
)
DEFAULT = CommandId.NEW  # what `/ship` alone, or followed by a postcode, runs
ROWS: dict[CommandId, Command] = {c.id: c for c in COMMANDS}


def route(text: str) -> tuple[Command, str]:
    """The row `text` names and the raw argument after it; Refused pointing at help if none."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return ROWS[DEFAULT], ""
    word, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    if word.lower() in ROWS:
        return ROWS[CommandId(word.lower())], rest
    if prefill.postcode_initial(text) is not None:
        return ROWS[DEFAULT], text
    said = f"`/ship {shown(word, 30)}`" if word.isprintable() else "that"
    names = ", ".join(c.id for c in COMMANDS)
    raise Refused(messages.UNKNOWN_COMMAND.format(word=said, names=names), "unknown command")


def answer(bot: Shipbot, text: str, asker: Asker) -> Reply:
    """`/ship <text>`: the row's feature run on its cleaned argument; one log line."""
    started = time.monotonic()
    command, raw = route(text)
    reply = command.run(bot, command.argument(raw), asker)
    outcome = "answered" if isinstance(reply, Message) else "form"
    log_operation(command.id, None, outcome, started)
    return reply


# -- drawn from the table: the README's command table and the manifest's usage hint ----------

BEGIN = "<!-- commands: drawn from bot/desk/commands.py by `python -m bot.desk.commands` -->"
END = "<!-- /commands -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_table() -> str:
    """The rows as the README's Markdown table, with the markers around it."""
    lines = [BEGIN, "", "| Command | Example | What it does |", "|---|---|---|"]
    for c in COMMANDS:
        lines.append(f"| `{_cell(c.usage)}` | `{_cell(c.example)}` | {_cell(c.detail)} |")
    return "\n".join([*lines, "", END])


def usage_hint() -> str:
    """app_manifest.yml's usage hint for `/ship`: every name, then what they take."""
    return f"[{' | '.join(c.id for c in COMMANDS)}] [reference | postcode | text]"


_HINT = re.compile(r"^(\s*usage_hint: ).*$", flags=re.M)


def rewrite(readme: str, manifest_yaml: str) -> tuple[str, str]:
    """The README and the manifest with their drawn parts replaced by the table's now."""
    head, _, rest = readme.partition(BEGIN)
    tail = rest.partition(END)[2]
    hint = _HINT.sub(lambda m: f'{m.group(1)}"{usage_hint()}"', manifest_yaml, count=1)
    return head + readme_table() + tail, hint


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    readme, manifest_file = root / "README.md", root / "app_manifest.yml"
    new_readme, new_manifest = rewrite(readme.read_text(), manifest_file.read_text())
    readme.write_text(new_readme)
    manifest_file.write_text(new_manifest)
