"""Deterministic synthetic regions with ground-truth labels of injected data problems."""
