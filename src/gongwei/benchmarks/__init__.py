"""Benchmark commands (not tests): each prints a Markdown table with medians of repeated runs."""
