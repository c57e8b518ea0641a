"""Rendering for people: files (CSV, XLSX) that are safe to open and private to their owner."""
