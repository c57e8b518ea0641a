"""Identity numbers (GB 11643-1999): normalise, upgrade 15→18, validate, compare with the record.

Two paths, one verdict:

* :func:`check_one` validates a single number with python-stdnum (``stdnum.cn.ric``); forms and the
  admin use it.
* :func:`check_many` validates whole columns at once with NumPy, for imports and synthetic regions of
  millions of rows (stdnum costs ~23 µs a number, 23 s per million). ``tests/test_identity.py`` proves
  with hypothesis that both paths give the same status for any input.

Bad numbers are never rejected: they are stored with an :class:`IdStatus` so quality control can
count them ([pingliang-2020q2] reports empty and abnormal numbers per county).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from gongwei.spec import identity as rules
from gongwei.spec.vocab import IdStatus, IdType, Sex

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = np.array(list("10X98765432"))


@dataclass(frozen=True)
class IdCheck:
    number: str  # normalised (upper-case, 15-digit upgraded); the raw value when malformed
    status: IdStatus
    birth_date: dt.date | None = None
    sex: Sex | None = None


def normalize(raw: str | None) -> str:
    """Strip spaces and separators, upper-case ``x``; upgrade a 15-digit legacy number to 18 digits."""
    if not raw:
        return ""
    number = "".join(raw.split()).replace("-", "").upper()
    if len(number) == 15 and number.isdigit():
        body = number[:6] + rules.LEGACY_CENTURY + number[6:]
        return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit
    return number


def _is_placeholder(number: str) -> bool:
    body = number[:17]
    return (
        number in rules.PLACEHOLDER_NUMBERS
        or len(set(body)) == 1
        or body.startswith("12345678")
        or number[14:17] == "000"
    )


def check_one(
    raw: str | None,
    birth_date: dt.date | None = None,
    sex: str | None = None,
    id_type: str = IdType.RESIDENT_ID,
    today: dt.date | None = None,
) -> IdCheck:
    """Validate one identity number with python-stdnum and compare it with the record's birth date and sex."""
    if id_type != IdType.RESIDENT_ID:
        return IdCheck((raw or "").strip(), IdStatus.MISSING if not raw or not raw.strip() else IdStatus.NOT_CHECKED)
    number = normalize(raw)
    if not number:
        return IdCheck("", IdStatus.MISSING)
    upgraded = len("".join((raw or "").split())) == 15
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return IdCheck(number, IdStatus.MALFORMED)
    try:
        ric.validate(number)
    except ValidationError as exc:
        if isinstance(exc, ric.InvalidChecksum):
            return IdCheck(number, IdStatus.BAD_CHECKSUM)
        try:  # stdnum raises InvalidComponent for a bad birth date and for an unknown address code
            ric.get_birth_date(number)
        except ValidationError:
            return IdCheck(number, IdStatus.BAD_BIRTH_DATE)
        if not _region_known(number[:6]):
            return IdCheck(number, IdStatus.BAD_REGION)
        # stdnum also rejects a county code created after the birth year; but numbers were issued from
        # 1984 with the code current at issue, so a 1950 birth under a 1983 code is genuine (ID-06:
        # current or historical codes stay valid). Accept it.
    born = ric.get_birth_date(number)
    today = today or dt.date.today()
    if born > today or (today.year - born.year) > rules.MAX_AGE_YEARS:
        return IdCheck(number, IdStatus.BAD_BIRTH_DATE)
    if _is_placeholder(number):
        return IdCheck(number, IdStatus.PLACEHOLDER)
    id_sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    if birth_date is not None and birth_date != born:
        return IdCheck(number, IdStatus.BIRTH_MISMATCH, born, id_sex)
    if sex in (Sex.MALE, Sex.FEMALE) and sex != id_sex:
        return IdCheck(number, IdStatus.SEX_MISMATCH, born, id_sex)
    return IdCheck(number, IdStatus.UPGRADED if upgraded else IdStatus.VALID, born, id_sex)


def check_many(
    raw: np.ndarray,
    birth_dates: np.ndarray | None = None,
    sexes: np.ndarray | None = None,
    id_types: np.ndarray | None = None,
    today: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`check_one` over columns.

    ``raw``: strings (None/"" for missing); ``birth_dates``: ``datetime64[D]`` (NaT allowed);
    ``sexes``: code strings. Returns ``(normalised numbers, statuses)`` as object/str arrays.
    """
    n = len(raw)
    today = today or dt.date.today()
    raw_s = np.array(["" if x is None else str(x) for x in raw], dtype=object) if raw.dtype == object else raw.astype(str)
    cleaned = np.char.upper(np.char.replace(np.char.replace(raw_s.astype(str), " ", ""), "-", ""))
    lengths = np.char.str_len(cleaned)
    status = np.full(n, IdStatus.VALID.value, dtype=object)

    # 15-digit legacy numbers: insert the century, then the check digit is computed with the 18s below.
    is15 = (lengths == 15) & np.char.isdigit(cleaned)
    body = np.where(lengths == 18, np.char.ljust(cleaned, 18), "")
    body = np.where(is15, np.char.add(np.char.add(np.char.ljust(cleaned, 6).astype("<U6"), rules.LEGACY_CENTURY),
                                      np.char.rstrip(np.array([s[6:] for s in cleaned], dtype="<U9"))), body)
    body = body.astype("<U18")
    well_formed = (lengths == 18) | is15
    digits17 = np.array([s[:17] for s in body], dtype="<U17")
    well_formed &= np.char.isdigit(digits17) & (np.char.str_len(digits17) == 17)

    # digit matrix, only meaningful where well_formed
    safe = np.where(well_formed, digits17, "0" * 17).astype("S17")
    mat = np.frombuffer(safe.tobytes(), dtype=np.uint8).reshape(n, 17).astype(np.int64) - 48
    expected = _CHECK_CHARS[(mat @ _WEIGHTS) % 11]
    last = np.array([s[17:18] for s in body], dtype="<U1")
    last = np.where(is15, expected, last)
    normalised = np.where(is15, np.char.add(digits17, expected), cleaned).astype(object)
    well_formed &= np.isin(last, list("0123456789X"))

    status[lengths == 0] = IdStatus.MISSING.value
    bad_format = (lengths > 0) & ~well_formed
    status[bad_format] = IdStatus.MALFORMED.value
    ok = well_formed.copy()

    # Same order as stdnum.cn.ric.validate: checksum, then birth date, then address code at birth year.
    bad_check = ok & (last != expected)
    status[bad_check] = IdStatus.BAD_CHECKSUM.value
    ok &= ~bad_check
    year = mat[:, 6] * 1000 + mat[:, 7] * 100 + mat[:, 8] * 10 + mat[:, 9]
    month = mat[:, 10] * 10 + mat[:, 11]
    day = mat[:, 12] * 10 + mat[:, 13]
    born = _safe_dates(year, month, day)
    bad_date = ok & np.isnat(born)
    status[bad_date] = IdStatus.BAD_BIRTH_DATE.value
    ok &= ~bad_date
    region = np.array([s[:6] for s in digits17], dtype="<U6")
    keys, inverse = np.unique(np.where(ok, region, ""), return_inverse=True)
    key_ok = np.array([k == "" or _region_known(k) for k in keys], dtype=bool)
    bad_region = ok & ~key_ok[inverse]
    status[bad_region] = IdStatus.BAD_REGION.value
    ok &= ~bad_region
    today64 = np.datetime64(today, "D")
    implausible = ok & ((born > today64) | (year < today.year - rules.MAX_AGE_YEARS))
    status[implausible] = IdStatus.BAD_BIRTH_DATE.value
    ok &= ~implausible
    full = np.char.add(digits17, last)
    placeholder = ok & (
        np.isin(full, list(rules.PLACEHOLDER_NUMBERS))
        | (mat == mat[:, :1]).all(axis=1)
        | np.char.startswith(digits17, "12345678")
        | (mat[:, 14:17].sum(axis=1) == 0)
    )
    status[placeholder] = IdStatus.PLACEHOLDER.value
    ok &= ~placeholder
    if birth_dates is not None:
        bd = np.asarray(birth_dates, dtype="datetime64[D]")
        mismatch = ok & ~np.isnat(bd) & (bd != born)
        status[mismatch] = IdStatus.BIRTH_MISMATCH.value
        ok &= ~mismatch
    if sexes is not None:
        sx = np.asarray(sexes).astype(str)
        id_sex = np.where(mat[:, 16] % 2 == 1, Sex.MALE.value, Sex.FEMALE.value)
        mismatch = ok & np.isin(sx, [Sex.MALE.value, Sex.FEMALE.value]) & (sx != id_sex)
        status[mismatch] = IdStatus.SEX_MISMATCH.value
        ok &= ~mismatch
    status[ok & is15] = IdStatus.UPGRADED.value
    if id_types is not None:
        other = np.asarray(id_types).astype(str) != IdType.RESIDENT_ID.value
        status[other & (lengths > 0)] = IdStatus.NOT_CHECKED.value
        status[other & (lengths == 0)] = IdStatus.MISSING.value
        normalised[other] = np.char.strip(raw_s[other].astype(str)).astype(object)
    return normalised, status


@functools.lru_cache(maxsize=65536)
def _region_known(region6: str) -> bool:
    """Is the address code in stdnum's GB/T 2260 table (current or historical, any period)?"""
    from stdnum import numdb

    info = {k: v for _part, props in numdb.get("cn/loc").info(region6) for k, v in props.items()}
    return "county" in info


def _safe_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Build datetime64[D] from components; invalid combinations (0230, month 13) become NaT."""
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[D]")
    plausible = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    y, m, d = year[plausible], month[plausible], day[plausible]
    first = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1)
    candidate = first.astype("datetime64[D]") + (d - 1)
    same_month = candidate.astype("datetime64[M]") == first
    vals = np.where(same_month, candidate, np.datetime64("NaT"))
    out[plausible] = vals
    return out


def make_number(region6: np.ndarray, birth: np.ndarray, seq3: np.ndarray) -> np.ndarray:
    """Compose valid 18-digit numbers from columns (used by synthetic regions).

    Built as a digit matrix with integer arithmetic (no per-element string work): ~0.1 s per million.
    """
    region = np.asarray(region6).astype(np.int64)
    born = np.asarray(birth, dtype="datetime64[D]")
    y = born.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = born.astype("datetime64[M]").astype(np.int64) - (y - 1970) * 12 + 1
    d = (born - born.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    ymd = y * 10_000 + mo * 100 + d
    seq = np.asarray(seq3).astype(np.int64)
    n = len(region)
    mat = np.empty((n, 18), dtype=np.int64)
    for i in range(6):
        mat[:, i] = region // 10 ** (5 - i) % 10
    for i in range(8):
        mat[:, 6 + i] = ymd // 10 ** (7 - i) % 10
    for i in range(3):
        mat[:, 14 + i] = seq // 10 ** (2 - i) % 10
    check = (mat[:, :17] @ _WEIGHTS) % 11
    chars = (mat + 48).astype(np.uint8)
    chars[:, 17] = np.frombuffer(b"10X98765432", dtype=np.uint8)[check]
    return np.frombuffer(chars.tobytes(), dtype="S18").astype("<U18")


def region_code_known(region6: str) -> bool:
    """Public form of the GB/T 2260 check, for callers choosing address codes (e.g. synthetic regions)."""
    return _region_known(region6)


def _region_valid_at(region6: str, year: int) -> bool:  # kept for callers written against the first draft
    return _region_known(region6)


def check_digit(number: str) -> str:
    """The GB 11643 check character of an 18-character number's first 17 digits (what the 18th should be)."""
    return ric.calc_check_digit(number[:17] + "0")
