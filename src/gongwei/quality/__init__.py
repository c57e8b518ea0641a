"""Data quality workflow (质控): findings with their rectification status, and reversible merges of duplicates."""
