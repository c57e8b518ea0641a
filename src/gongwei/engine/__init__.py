"""The engine: evaluates the rulebook (``gongwei.spec``) over a snapshot, vectorised.

Imports ``spec`` and nothing else of ours — no Django. Backends: DuckDB in-process (default) and PySpark
(local or cluster), both through Ibis, so one set of definitions runs on both (ADR 007).
"""
