"""Funds ledger (资金台账): allocations, arrivals, disbursements and expenditures per level and unit, with their
dates and document numbers; corrections void a row and add another, nothing is deleted (issue 12; ADR 032)."""
