"""Identity rules ([gb11643] ID-01…ID-09) and the phone rules that live on the resident (C-02, F-06).

The snapshot holds no identity numbers or phones (ADR 008). The entry layer validated each number once
(:mod:`gongwei.records.identity`) and stored the first failure as ``id_status``, so ID-02…ID-08 read that flag;
``id_masked`` is what a finding may show. Duplicates (ID-09) and shared phones (F-06) compare keyed hashes;
phone formats (C-02) are judged on ``phone_shape``, which keeps the first three characters and the layout.

Population: records in the records at the period end — :func:`records_at_end`. The helpers here are shared
by the other families of this package (completeness, plausibility, logic).
"""

from __future__ import annotations

import datetime as dt

import ibis

from gongwei.engine.programs.records import residents_in_records
from gongwei.engine.quality import Check
from gongwei.spec.vocab import IdStatus

RESIDENTS = "residents"
# far in the future, so records without a known creation date sort last on every backend (DuckDB and Spark
# disagree on where nulls sort)
_FAR = dt.date(9999, 12, 31)


def records_at_end(check: Check) -> ibis.Table:
    """Residents in the records at the period end (:func:`residents_in_records`) whose 个人基本信息表, when
    there is one, was created by then; with its ``created_on`` (null without a form)."""
    res = residents_in_records(check.eng, check.period)
    hr = check.eng.table("health_records")
    hr = hr.select(hr_resident_id=hr.resident_id, created_on=hr.created_on)
    rows = res.left_join(hr, res.id == hr.hr_resident_id)
    return rows.filter(rows.created_on.isnull() | (rows.created_on <= check.end)).drop("hr_resident_id")


def resident_findings(res: ibis.Table, **values: ibis.Value) -> ibis.Table:
    """Finding rows for residents (the record is the resident; the responsible unit is the managing one)."""
    return res.select(table=ibis.literal(RESIDENTS), record_id=res.id, resident_id=res.id,
                      org_unit_id=res.managing_unit_id, **values)


def encounter_findings(t: ibis.Table, table: str, **values: ibis.Value) -> ibis.Table:
    """Finding rows for encounters (the responsible unit is the serving one)."""
    return t.select(table=ibis.literal(table), record_id=t.id, resident_id=t.resident_id,
                    org_unit_id=t.org_unit_id, **values)


def age_years(birth: ibis.ir.DateValue, on: ibis.ir.DateValue) -> ibis.ir.IntegerValue:
    """Completed years of age on ``on`` (integer arithmetic on date parts: portable across backends)."""
    before_birthday = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    return (on.year() - birth.year()) - before_birthday.cast("int64")


def tenths(value: ibis.ir.NumericValue) -> ibis.ir.IntegerValue:
    """A one-decimal measurement in whole tenths, so thresholds compare exactly (ADR 007)."""
    return (value * 10).round().cast("int64")


def param_tenths(x: object) -> int:
    return round(float(x) * 10)  # type: ignore[arg-type]


def masked_phone(shape: ibis.ir.StringValue) -> ibis.ir.StringValue:
    """The phone as a finding may show it: the kept first three characters, later digits starred."""
    return shape.substr(0, 3) + shape.substr(3).replace("9", "*")


def _status(*statuses: IdStatus, **values: str):
    def evaluate(check: Check) -> ibis.Table:
        res = records_at_end(check)
        res = res.filter(res.id_status.isin([s.value for s in statuses]))
        return resident_findings(res, **{name: res[column] for name, column in values.items()})
    return evaluate


def id_missing(check: Check) -> ibis.Table:
    """ID-01. Newborns are exempt for ``grace_days`` after birth: birth registration (and with it the number)
    is due within a month of birth (户口登记条例 §7), so a blank number is not yet an error."""
    res = records_at_end(check)
    born_by = check.period.end - dt.timedelta(days=int(check.params.get("grace_days", 0)))
    res = res.filter((res.id_status == IdStatus.MISSING.value) & (res.birth_date <= ibis.date(born_by)))
    return resident_findings(res)


def id_birth_date(check: Check) -> ibis.Table:
    """ID-04. Entry flagged invalid and future dates (and ages over the limit at entry). A number that passed
    stays plausible only while its holder is: where the number's birth date is the record's (the statuses
    that passed the birth-date comparison), the age at the period end is checked against ``max_age_years``."""
    res = records_at_end(check)
    birth_confirmed = [IdStatus.VALID.value, IdStatus.UPGRADED.value, IdStatus.SEX_MISMATCH.value]
    too_old = res.id_status.isin(birth_confirmed) & (age_years(res.birth_date, check.end)
                                                     > int(check.params["max_age_years"]))
    res = res.filter((res.id_status == IdStatus.BAD_BIRTH_DATE.value) | too_old)
    return resident_findings(res, id_masked=res.id_masked)


def id_region(check: Check) -> ibis.Table:
    """ID-06 (ID-05 included: an unknown province is an unknown address code). Historical GB/T 2260 codes
    were accepted at entry."""
    res = records_at_end(check)
    res = res.filter(res.id_status == IdStatus.BAD_REGION.value)
    return resident_findings(res, region=res.id_masked.substr(0, 6), id_masked=res.id_masked)


def id_mismatch(check: Check) -> ibis.Table:
    """ID-07: the number's birth date or sex differs from the record's (entry compares birth date first)."""
    res = records_at_end(check)
    res = res.filter(res.id_status.isin([IdStatus.BIRTH_MISMATCH.value, IdStatus.SEX_MISMATCH.value]))
    what = ibis.cases((res.id_status == IdStatus.BIRTH_MISMATCH.value, "出生日期"), else_="性别")
    return resident_findings(res, what=what, id_masked=res.id_masked)


def id_duplicate(check: Check) -> ibis.Table:
    """ID-09: two or more records in the records at the period end with the same normalised number.

    The earliest record (by 建档日期, then by id) is kept as the original; every later one is flagged and
    names all the others. Placeholder numbers are left out: they identify nobody (ID-08 reports them)."""
    res = records_at_end(check)
    keyed = res.filter(res.id_key.notnull() & (res.id_key != "") & (res.id_status != IdStatus.PLACEHOLDER.value))
    keyed = keyed.select("id", "id_key", "record_no", "managing_unit_id",
                         created=keyed.created_on.fill_null(ibis.date(_FAR)))
    ranked = keyed.mutate(dup_rank=ibis.row_number().over(group_by=keyed.id_key,
                                                          order_by=[keyed.created, keyed.id]))
    later = ranked.filter(ranked.dup_rank > 0)
    other = keyed.select(other_key="id_key", other_id="id", other_no="record_no")
    pairs = later.join(other, (later.id_key == other.other_key) & (later.id != other.other_id))
    names = pairs.group_by("id").aggregate(other_records=pairs.other_no.collect().sort().join("、"))
    flagged = later.join(names, "id")
    return resident_findings(flagged, other_records=flagged.other_records)


def phone_format(check: Check) -> ibis.Table:
    """C-02: a filled phone that is neither a mainland mobile nor a landline with area code. The shape keeps
    the first three characters, which is where the patterns discriminate (``1[3-9]``, ``0[1-9]``); all-same
    digits (00000000000, 11111111111) fail there too."""
    res = records_at_end(check)
    shape = res.phone_shape.fill_null("")
    valid = shape.re_search(str(check.params["mobile_pattern"])) | shape.re_search(str(check.params["landline_pattern"]))
    res = res.filter(res.phone_present.fill_null(False) & ~valid)
    return resident_findings(res, phone=masked_phone(res.phone_shape))


def shared_phone(check: Check) -> ibis.Table:
    """F-06: one phone on residents of more than ``max_households`` households. Only residents' own phones
    count (a relative's number entered as 联系人电话 is expected to repeat); a resident without a household
    is a household of one."""
    res = records_at_end(check)
    res = res.filter(res.phone_key.notnull())
    res = res.mutate(household=res.household_id.fill_null(-res.id))
    per_phone = res.group_by("phone_key").aggregate(households=res.household.nunique())
    per_phone = per_phone.filter(per_phone.households > int(check.params["max_households"]))
    flagged = res.join(per_phone, "phone_key")
    return resident_findings(flagged, phone=masked_phone(flagged.phone_shape), households=flagged.households)


EVALUATORS = {
    "ID-01": id_missing,
    "ID-02": _status(IdStatus.MALFORMED, id_masked="id_masked"),
    "ID-03": _status(IdStatus.BAD_CHECKSUM, id_masked="id_masked"),
    "ID-04": id_birth_date,
    "ID-06": id_region,
    "ID-07": id_mismatch,
    "ID-08": _status(IdStatus.PLACEHOLDER, id_masked="id_masked"),
    "ID-09": id_duplicate,
    "C-02": phone_format,
    "F-06": shared_phone,
}
