"""Per-program evaluators: each turns a snapshot into a per-person state table for one period.

A state table has one row per person in the program's cohort, the columns the rulebook's indicators name
(``managed``, ``standardized``, ``controlled`` ...), the counts behind them, and one boolean ``gap_*``
column per reason a person can miss a numerator — the drill-down and the worklist read the same columns.
"""
