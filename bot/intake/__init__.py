"""Intake: what an agent types becomes typed data here (the `/ship` form, pasted addresses,
parcel presets, a subcommand's arguments), or a field-level answer saying what to fix."""
