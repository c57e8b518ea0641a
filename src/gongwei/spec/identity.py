"""Identity-number rules ([gb11643], GB 11643-1999).

The check-digit algorithm itself is GB 11643 / ISO 7064 MOD 11-2 and is implemented by python-stdnum
(``stdnum.cn.ric``); this module holds the *rule data* around it.
"""

from __future__ import annotations

from gongwei.spec.vocab import IdStatus

# ID-05/ID-06 (province and county address codes, current and historical GB/T 2260) are checked with
# python-stdnum's own code table (stdnum/cn/loc.dat), which knows when each county code was valid.

# ID-04: the oldest plausible age at validation time [U].
MAX_AGE_YEARS = 120

# ID-08: placeholder numbers seen in real data or textbooks [U]; plus the shape rules in the checker
# (all-same digits, ascending runs, sequence "000").
PLACEHOLDER_NUMBERS: frozenset[str] = frozenset({"11010519491231002X", "110101190001011009"})

# GB 11643 legacy 15-digit numbers carry a two-digit year; upgrades insert this century [V].
LEGACY_CENTURY = "19"

# A number typed on a registration or edit form must pass the check (bad numbers in imported data are only
# flagged; a person standing in front of the doctor can show the card): these outcomes are refused on a form [gb11643].
FORM_REFUSED_STATUSES: frozenset[str] = frozenset({
    IdStatus.MALFORMED, IdStatus.BAD_CHECKSUM, IdStatus.BAD_BIRTH_DATE, IdStatus.BAD_REGION, IdStatus.PLACEHOLDER,
})
