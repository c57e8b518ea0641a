"""Performance evaluation (绩效评价): rounds frozen on a snapshot and rulebook version, their unit and item scores with
evidence, and evaluators' manual entries with their history (issue 12; ADR 025)."""
