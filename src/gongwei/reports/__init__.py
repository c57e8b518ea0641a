"""Wording and file formats, shared by every face: bulletin text, tables, JSON payloads and XLSX workbooks made
from the typed results of :mod:`gongwei.service`. Nothing here computes a rule, opens a snapshot or checks access;
each function takes a result and returns text or writes a file (owner-only, spreadsheet-safe: :mod:`gongwei.files`).
"""
