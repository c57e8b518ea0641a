"""Word lists for synthetic people and places, taken from Faker's zh_CN providers as plain lists.

Faker is used only as a source of lists; every draw is made with NumPy so a seed fixes the output.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from faker.providers.address.zh_CN import Provider as AddressProvider
from faker.providers.person.zh_CN import Provider as PersonProvider


@cache
def surnames() -> tuple[list[str], np.ndarray]:
    names = list(PersonProvider.last_names)
    weights = np.array([float(w) for w in PersonProvider.last_names.values()])
    return names, weights / weights.sum()


@cache
def given_names(sex: str) -> list[str]:
    return list(PersonProvider.first_names_male if sex == "1" else PersonProvider.first_names_female)


@cache
def place_words() -> list[str]:
    """Two-character place words (from Faker's district names), unique and sorted for determinism."""
    words = {w for w in AddressProvider.districts if len(w) == 2}
    return sorted(words)


# Characters used to make name variants of duplicate records (同音/形近字).
VARIANT_CHARS = list("明敏民铭华化花英瑛莹军君俊芳方红宏洪伟玮炜丽莉利")
