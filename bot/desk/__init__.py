"""The desk's features: one module per row of the `/ship` command table and per thread
button, the resumable flow engine and its steps, and the one way a consignment is shown.
Features touch the store, the carrier and Slack only through their layers. One line a module:

- `commands`: The `/ship` command table: one typed row per subcommand.
- `flow`: The Quotes flow's entry points: form, submit, choose, try again, edit.
- `advance`: The flow's engine: a resumable state machine, one function per step.
- `quoting`: The first steps: the channel message, create, fetch and show quotes.
- `booking`: Allocate the clicked quote (never twice), fetch and upload the documents.
- `rebooking`: Ship with another service (requote, release) and fix the address.
- `step_failures`: How a failed step says so: the move, the audit row, the words.
- `early_post`: The channel message posted early as "⏳ Creating…" for a slow step.
- `approval`: Approval above `SHIPBOT_APPROVAL_ABOVE`: one decision per claim.
- `prefill`: Prefilled forms: a message, a postcode, a past consignment, a preset.
- `manifest`: `/ship manifest`: reports only what the carrier confirmed.
- `cancel`: `/ship cancel` and Cancel: held as cancelling, looked up after failures.
- `label`: `/ship label` and Reprint label, in the consignment's thread.
- `lookup`: `/ship status`, `find`, `list`, `audit` and App Home.
- `access`: The look-ups every feature shares (which consignment, who may see it).
- `rescue`: The delivery desk: look up at Sorted PRO, take over, fix, replace.
- `returns`: `/ship return` and Return label: an inbound consignment.
- `return_services`: Which quotes a return may offer.
- `report`: `/ship report`: spend by agent and carrier, and the CSV.
- `watch`: The delivery watcher: a parcel after its manifest.
- `exceptions`: Delivery exceptions at the desk: Handled and Take over.
- `show`: The one way a consignment is shown, in line with its step.
- `reconcile`: The store follows the carrier's cancelled or manifested.
- `sweep`: No consignment stays in a step with nothing behind it.
- `messages`: Every sentence the bot says about a failure or refusal.
"""
