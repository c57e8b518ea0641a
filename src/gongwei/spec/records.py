"""Rules about the resident health record itself ([exam-form-2017][gd-ehr-interp]–2.5)."""

from __future__ import annotations

# 常住居民: lives in the area for at least this many months [ehr-standardized][pingliang-2020q2].
USUAL_RESIDENCE_MIN_MONTHS = 6

# Fields of the 个人基本信息表 that must be filled for the basic-information part of a record to be
# complete (规范). No single national rule exists ([ehr-standardized] [U]); this default follows
# the 3rd edition's 个人基本信息表 [spec2017] and is overridable per region.
REQUIRED_BASIC_FIELDS: tuple[str, ...] = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "residence_type",
    "ethnicity",
    "blood_abo",
    "education",
    "occupation",
    "marital_status",
    "payment_methods",
    "drug_allergy",
    "exposure",
    "past_history",
    "family_history",
    "disability",
)

# A record is in dynamic use (动态使用) when it has a service within this many days [V: 1-year window].
DYNAMIC_USE_WINDOW_DAYS = 365

# 健康档案编号 and 家庭编号 as the platform assigns them to a record created at a village clinic: the village's
# 12-digit statistical division code followed by a sequence number within the village (the layout of the records
# this platform writes, synthetic and imported alike) [ws-ehr-standards][I]. A household number puts a letter
# between the code and its sequence, so the two can never collide.
RECORD_NO_SEQUENCE_DIGITS = 5
HOUSEHOLD_NO_LETTER = "H"
HOUSEHOLD_NO_SEQUENCE_DIGITS = 5
