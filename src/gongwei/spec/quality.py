"""Data-quality and anti-fabrication rules ([gb11643][exam-form-2017]), as data.

Each rule names what it checks, its level (E error, W warning for review, S signal that only raises
sampling probability), its parameters by year (overridable per region: the most specific code prefix
wins) and its source. Evidence tags follow the domain reference: V verified, B background, U configurable
practice — most thresholds are U, because provinces differ and no national text fixes them.
The engine evaluates these over a snapshot; nothing here runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from gongwei.spec import entry
from gongwei.spec.programs import diabetes, elderly, hypertension
from gongwei.spec.rules import ByYear, Source


class Level(StrEnum):
    ERROR = "E"
    WARNING = "W"
    SIGNAL = "S"


@dataclass(frozen=True)
class QcRule:
    code: str
    name: str  # Chinese, as shown in scorecards
    level: Level
    table: str  # the table whose rows are flagged (exchange-layout name)
    source: Source
    params: ByYear[Mapping[str, object]] = field(default_factory=lambda: ByYear({2017: MappingProxyType({})}))
    regional: Mapping[str, ByYear[Mapping[str, object]]] = field(default_factory=dict)  # code prefix → params
    message: str = ""  # Chinese template, formatted with the finding's values

    def params_for(self, year: int, region_code: str = "") -> Mapping[str, object]:
        best = ""
        for prefix in self.regional:
            if region_code.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        base = dict(self.params.for_year(year))
        if best:
            base.update(self.regional[best].for_year(year))
        return base


def _p(**kw: object) -> ByYear[Mapping[str, object]]:
    return ByYear({2017: MappingProxyType(kw)})


RULES: tuple[QcRule, ...] = (
    # --- identity ---------------------------------------------------------------------------
    # grace_days: a newborn's number follows birth registration, due within a month (户口登记条例 §7)
    QcRule("ID-01", "身份证号为空", Level.WARNING, "residents", Source("ID-01; [pingliang-2020q2] [gb11643]", "V"),
           params=_p(grace_days=31), message="身份证号为空"),
    QcRule("ID-02", "身份证号格式错误", Level.ERROR, "residents", Source("ID-02 [gb11643]", "V"),
           message="身份证号“{id_masked}”长度或字符不合规"),
    QcRule("ID-03", "身份证号校验位错误", Level.ERROR, "residents", Source("ID-03; GB 11643-1999 [gb11643]", "V"),
           message="身份证号“{id_masked}”校验位错误"),
    QcRule("ID-04", "身份证号出生日期无效", Level.ERROR, "residents", Source("ID-04 [gb11643]", "V"),
           params=_p(max_age_years=120), message="身份证号中的出生日期无效或超过 {max_age_years} 岁"),
    QcRule("ID-06", "身份证号地址码不存在", Level.WARNING, "residents", Source("ID-05/06; GB/T 2260 [gb11643][gb2260]", "B"),
           message="身份证号地址码“{region}”不在行政区划代码表中"),
    QcRule("ID-07", "身份证号与出生日期或性别不符", Level.ERROR, "residents", Source("ID-07 [gb11643]", "V"),
           message="身份证号所含{what}与档案不符"),
    QcRule("ID-08", "疑似虚假身份证号", Level.ERROR, "residents", Source("ID-08 [gb11643]", "U"),
           message="身份证号“{id_masked}”为占位或虚假号码"),
    QcRule("ID-09", "同一身份证号多份在管档案", Level.ERROR, "residents", Source("ID-09 [gb11643][cq-ehr-2024]", "V"),
           message="身份证号与档案 {other_records} 相同（重复档案）"),
    # --- completeness and format ------------------------------------------------------------
    QcRule("C-01", "个人基本信息表缺项", Level.WARNING, "health_records", Source("C-01 [exam-form-2017][ehr-standardized]", "V"),
           message="个人基本信息表缺项：{missing}"),
    QcRule("C-02", "电话号码无效", Level.WARNING, "residents", Source("C-02 [exam-form-2017]", "V"),
           params=_p(mobile_pattern=r"^1[3-9]\d{9}$", landline_pattern=r"^0[1-9]\d{1,2}-?\d{7,8}$"),
           message="电话“{phone}”不是有效的手机或固定电话号码"),
    # elderly_package: from elderly_age, the 3rd-edition elderly exam package (spec.programs.elderly.PACKAGE, the
    # definition E1/E2 use) replaces the 65+ items (ADL, cognition, affect) [exam-form-2017] named
    QcRule("C-03", "体检表关键项缺失", Level.ERROR, "health_examinations",
           Source("C-03；国家基本公共卫生服务规范（第三版）老年人健康管理服务规范 服务内容 [spec2017-elderly] [exam-form-2017]", "V"),
           params=_p(required=("sbp_left", "dbp_left", "sbp_right", "dbp_right", "height", "weight", "waist"),
                     elderly_package=True, elderly_age=elderly.MIN_AGE),
           message="体检缺少：{missing}"),
    QcRule("C-04", "随访表关键项缺失", Level.ERROR, "chronic_follow_ups", Source("C-04 [exam-form-2017]", "V"),
           # blood pressure is owed by face-to-face visits only (not measurable by phone); the COPD form's items are
           # unknown (its 2024 specification was not found), so only hypertension and diabetes are checked
           params=_p(required=("mode", "adherence", "classification", "next_visit_date", "provider"),
                     face_to_face_required=("sbp", "dbp"), programs=("hypertension", "diabetes")),
           message="随访缺少：{missing}"),
    # The 3rd-edition follow-up forms record each drug as 药物名称1–3 (+ 其他) with 用法用量 "每日 次 每次 mg"; ours
    # keeps the section as one text, entries split at ``separators``. Flagged: a patient taking drugs (依从性 规律/
    # 间断) with no drug written; a boilerplate phrase ("按医嘱服药") instead of drugs; an entry without a drug
    # name, a dose per time or a number of times per day. The patterns are local practice (U): extend them per
    # region. COPD is left out until its form is known (C-04).
    QcRule("C-06", "用药情况填写不规范", Level.WARNING, "chronic_follow_ups",
           Source("国家基本公共卫生服务规范（第三版）高血压/2型糖尿病患者随访服务记录表：药物名称、用法用量（每日 次，每次 mg）；"
                  "[htn-followup-form]; C-04; 关于2023年度上党区基本公共卫生服务项目暨家庭医生签约服务绩效评价情况的通报（长上卫字〔2024〕30号）：“用药情况填写不规范” [shangdang-2023]",
                  "U"),
           params=_p(programs=("hypertension", "diabetes"), separators=r"；;、\n",
                     generic_phrases=("按医嘱服药", "遵医嘱服药", "按医嘱", "遵医嘱", "按时服药", "规律服药", "正常服药",
                                      "继续服药", "服药", "用药", "口服药", "口服药物", "药物治疗", "降压药", "降糖药",
                                      "同前", "同上", "同上次", "未变"),
                     none_phrases=("无", "无用药", "未用药", "未服药", "不服药", "无药物"),
                     dose_pattern=r"(?i)[0-9０-９]+(\.[0-9]+)?\s*(mg|g|μg|ug|ml|iu|u|毫克|克|微克|毫升|单位|片|粒|丸|袋|支|喷|吸)",
                     frequency_pattern=r"(?i)((每日|每天|一日|日|每晚|每周)\s*[0-9０-９一二三四两]+\s*次"
                                       r"|[0-9０-９一二三四两]+\s*次\s*/\s*(日|天|周)"
                                       r"|(^|[^a-z])(qd|bid|tid|qid|qn|qw)([^a-z]|$)|每晚|每早|睡前)",
                     usage_pattern=r"口服|含服|舌下含服|皮下注射|注射|吸入|饭前|饭后|餐前|餐后|空腹|睡前|早晚|每次|用法|用量|剂量"),
           message="用药情况“{medication}”：{problems}"),
    # --- plausibility (hard errors are refused at entry, these are the warning bands) ---------
    # min_age: the bands are for adults (children need age-specific tables); unless_referred: an
    # emergency level is a finding when the visit shows no (urgent) referral
    QcRule("R-01", "身高数值可疑", Level.WARNING, "health_examinations", Source("R-01 [exam-form-2017]", "U"),
           params=_p(low=130, high=200, min_age=18), message="身高 {height} cm 超出 {low}–{high}"),
    QcRule("R-02", "体重数值可疑", Level.WARNING, "health_examinations", Source("R-02 [exam-form-2017]", "U"),
           params=_p(low=30, high=150, min_age=18), message="体重 {weight} kg 超出 {low}–{high}"),
    QcRule("R-03", "腰围数值可疑", Level.WARNING, "health_examinations", Source("R-03 [exam-form-2017]", "U"),
           params=_p(low=55, high=140, min_age=18), message="腰围 {waist} cm 超出 {low}–{high}"),
    QcRule("R-04", "血压达急症水平", Level.WARNING, "chronic_follow_ups", Source("R-04; HTN spec [exam-form-2017][spec2017-htn]", "V"),
           params=_p(sbp=hypertension.EMERGENCY_SBP, dbp=hypertension.EMERGENCY_DBP, unless_referred=True), message="血压 {sbp}/{dbp} 达急症水平，应有紧急转诊处理"),
    QcRule("R-05", "脉压差可疑", Level.WARNING, "health_examinations", Source("R-05 [exam-form-2017]", "U"),
           params=_p(low=20, high=100, min_age=18), message="{arm}脉压差 {pulse_pressure} 超出 {low}–{high}"),
    QcRule("R-06", "脉率可疑", Level.WARNING, "health_examinations", Source("R-06 [exam-form-2017]", "U"),
           params=_p(low=50, high=120, min_age=18), message="脉率 {pulse} 超出 {low}–{high}"),
    QcRule("R-09", "体质指数计算错误", Level.WARNING, "health_examinations", Source("R-09 [exam-form-2017]", "U"),
           params=_p(tolerance=0.1), message="体质指数 {bmi} 与体重/身高² {bmi_computed} 不符"),
    QcRule("R-10", "空腹血糖达急症水平", Level.WARNING, "chronic_follow_ups", Source("R-10; DM spec [exam-form-2017][spec2017-dm-followup]", "V"),
           params=_p(low=float(diabetes.EMERGENCY_GLUCOSE_LOW), high=float(diabetes.EMERGENCY_GLUCOSE_HIGH),
                     unless_referred=True), message="空腹血糖 {fasting_glucose} 达急症水平"),
    # --- logic --------------------------------------------------------------------------------
    QcRule("L-01", "性别与服务内容矛盾", Level.ERROR, "prenatal_visits", Source("L-01 [spec2017]", "V"),
           message="男性居民有孕产妇服务记录"),
    QcRule("L-02", "年龄与服务项目不符", Level.ERROR, "enrollments", Source("L-02 [spec2017]", "V"),
           params=_p(hypertension=35, diabetes=35, elderly=65, child_max=6, maternal_min=15, maternal_max=49),
           message="{program}纳入时年龄 {age} 岁，不符合 {rule}"),
    QcRule("L-06", "高血压随访分类与血压不符", Level.WARNING, "chronic_follow_ups", Source("L-06 [spec2017]", "B"),
           # the target is hypertension.control_for(year, region) — the one H3 uses (150/90 from 65 by default)
           params=_p(target="hypertension.CONTROL / REGIONAL_CONTROL"),
           message="随访分类为控制满意，但血压 {sbp}/{dbp} ≥ {sbp_limit}/{dbp_limit}"),
    QcRule("L-07", "糖尿病随访分类与血糖不符", Level.WARNING, "chronic_follow_ups", Source("L-07 [spec2017]", "B"),
           params=_p(fasting_glucose=7.0), message="随访分类为控制满意，但空腹血糖 {fasting_glucose} ≥ {limit}"),
    QcRule("L-08", "转诊或不良反应无说明", Level.WARNING, "chronic_follow_ups", Source("L-08 [spec2017]", "B"),
           message="{what}"),
    # [shangdang-2023] finds 65+ constitution identification "有偏差". The form records the 33 answers, not the result it
    # scored to (TcmConstitution has no field for it), so what can be checked is the one item with an outside
    # truth: item 32 (腹部肥满) is scored from the waist, by the bands of spec.constitution [tcm-constitution]. A questionnaire
    # whose item 32 agrees with no waist measured at the person's examinations that year was scored by hand.
    QcRule("L-11", "中医体质辨识腹部肥满题与腰围不符", Level.WARNING, "tcm_constitutions",
           Source("老年人中医药健康管理服务记录表：第32题按腰围计分（[spec2017] [tcm-constitution]）；关于2023年度上党区"
                  "基本公共卫生服务项目暨家庭医生签约服务绩效评价情况的通报（长上卫字〔2024〕30号）：“中医体质辨识有偏差” [shangdang-2023]",
                  "V"),
           message="第32题（腹部肥满）答 {answer} 分，而当年体检腰围 {waist} cm（{exam_date}）应计 {expected} 分"),
    QcRule("L-12", "中医体质辨识结果与问卷计分不符", Level.WARNING, "tcm_constitutions",
           Source("中医体质分类与判定（ZYYXH/T157-2009）计分规则 [tcm-constitution]；关于2023年度上党区基本公共卫生服务项目暨"
                  "家庭医生签约服务绩效评价情况的通报（长上卫字〔2024〕30号）：“中医体质辨识有偏差” [shangdang-2023]", "V"),
           message="记录的体质辨识结果为“{recorded}”，而 33 题答案计分为“{identified}”"),
    # --- temporal -----------------------------------------------------------------------------
    QcRule("T-01", "服务日期在未来", Level.ERROR, "encounters", Source("T-01 [township-supervision-form]", "V"),
           message="服务日期 {service_date} 晚于录入日期或今天"),
    # record creation ("record") is off by default: backfilled services (hospital exams, birth doses) predate it
    QcRule("T-02", "服务日期早于出生或纳入管理日期", Level.ERROR, "encounters", Source("T-02 [township-supervision-form]", "U"),
           params=_p(against=("birth", "enrollment")), message="服务日期 {service_date} 早于{what} {ref_date}"),
    QcRule("T-03", "死亡后仍有服务", Level.ERROR, "encounters", Source("T-03 [township-supervision-form][gd-ehr-interp]", "V"),
           message="死亡日期 {status_date} 之后仍有{table_name}（{service_date}）"),
    QcRule("T-03b", "结案后仍有服务", Level.ERROR, "encounters", Source("T-03 [township-supervision-form][gd-ehr-interp]", "V"),
           message="档案于 {status_date} {status_name}后仍有{table_name}（{service_date}）"),
    QcRule("T-04", "随访间隔过密", Level.WARNING, "chronic_follow_ups", Source("T-04 [township-supervision-form]", "U"),
           params=_p(min_days=14), message="与上次面对面随访（{previous_date}）间隔 {days} 天（少于 {min_days} 天），且上次随访无需两周内复查、未转诊"),
    QcRule("T-05", "年度面对面随访不足", Level.WARNING, "enrollments", Source("T-05 [township-supervision-form]", "V"),
           params=_p(min_visits=4), message="本期{program}面对面随访 {visits} 次，少于应随访的 {required} 次（全年 {min_visits} 次，按在管季度折算）"),
    QcRule("T-07", "节假日服务", Level.SIGNAL, "encounters", Source("T-07; chinesecalendar [township-supervision-form][holidays]", "U"),
           params=_p(holidays=("Spring Festival", "National Day")), message="服务日期 {service_date} 为法定节假日（{holiday}）"),
    QcRule("T-08", "补录（录入晚于服务过久）", Level.SIGNAL, "encounters", Source("T-08 [township-supervision-form]", "U"),
           params=_p(max_days=30), message="录入时间比服务日期晚 {days} 天"),
    # --- fabrication signals ([pingliang-2020q2]) -------------------------------------------------------
    # scope: where two residents' exams are compared — org_unit_year (the serving unit), provider_year (the
    # doctor), township_year or county_year (the township or county above the serving unit: look-alike exams are
    # often spread over one township's villages, and [pingliang-2020q2] names townships as well as a village)
    QcRule("F-01", "体检数据雷同（6项中≥4项相同）", Level.SIGNAL, "health_examinations",
           Source("F-01; 平凉市2020年第二季度基本公卫服务项目工作进度情况的通报（平卫函发〔2020〕367号） [htn-verification-form]"
                  "：老年人体检6项体检指标中4项以上指标完全一致；华亭市东华镇、安口镇、山寨乡数据雷同较多 [pingliang-2020q2]", "S"),
           params=_p(fields=("height", "weight", "waist", "sbp_left", "dbp_left", "pulse"), min_equal=4,
                     scope="org_unit_year"),
           message="与{scope_zh}同年度另 {other_count} 人的体检 {equal_fields} 完全相同"),
    QcRule("F-02", "随访数值连续照抄", Level.SIGNAL, "chronic_follow_ups", Source("F-02 [htn-verification-form]", "U"),
           params=_p(consecutive=3, fields=("sbp", "dbp", "weight")), message="连续 {count} 次随访血压、体重完全相同"),
    # the thresholds live in spec.entry (ARM_GAP_REVIEW / ARM_GAP_REMEASURE), where the exam form asks for a
    # re-measurement at entry. F-03 counts every gap above 10, those above 20 included: [pingliang-2020q2] publishes one figure, "左右侧血压差大于
    # 10mmhg的体检记录人数为7749人", and names the > 20 ones as a subset of it ("特别是…大于20mmhg的要隔天重测"),
    # which F-03b flags again for the re-measurement
    QcRule("F-03", "左右臂血压差 >10 mmHg", Level.WARNING, "health_examinations",
           Source("F-03; 平凉市2020年第二季度基本公卫服务项目工作进度情况的通报（平卫函发〔2020〕367号） [htn-verification-form]"
                  "：左右侧血压差大于10mmhg的体检记录人数 [pingliang-2020q2]", "S"),
           params=_p(gap=entry.ARM_GAP_REVIEW), message="左右侧收缩压相差 {gap_value} mmHg（>{gap}）"),
    QcRule("F-03b", "左右臂血压差 >20 mmHg（应隔天复测）", Level.WARNING, "health_examinations",
           Source("F-03; 平凉市2020年第二季度基本公卫服务项目工作进度情况的通报（平卫函发〔2020〕367号） [htn-verification-form]"
                  "：大于20mmhg的要隔天重测 [pingliang-2020q2]", "S"),
           params=_p(gap=entry.ARM_GAP_REMEASURE), message="左右侧收缩压相差 {gap_value} mmHg（>{gap}），应隔天复测"),
    QcRule("F-04", "血压尾数偏好", Level.SIGNAL, "chronic_follow_ups", Source("F-04 [htn-verification-form]", "U"),
           params=_p(digits=(0, 5), expected_share=0.2, max_share=0.6, min_readings=30),
           message="医生 {provider} 的血压读数尾数为 {digit_set} 的占 {share}%（{n} 个读数）"),
    QcRule("F-05", "短时间内录入过多服务", Level.SIGNAL, "encounters", Source("F-05 [htn-verification-form]", "U"),
           params=_p(max_per_day=40, window_minutes=10, max_in_window=20),
           message="账号 {provider} 单日服务最多 {day_count} 条（{day}），{window_minutes} 分钟内录入最多 {window_count} 条"
                   "（{window_start} 起）；上限为每日 {max_per_day} 条、{window_minutes} 分钟 {max_in_window} 条"),
    QcRule("F-06", "多户共用同一电话", Level.SIGNAL, "residents", Source("F-06 [htn-verification-form]", "U"),
           params=_p(max_households=3), message="电话 {phone} 用于 {households} 个家庭"),
    QcRule("F-10", "控制不满意未给指导或转诊", Level.WARNING, "chronic_follow_ups",
           Source("F-10; [pingliang-2020q2]: 对随访血压控制不满意人群中有健康指导意见或针对性就诊建议 [htn-verification-form]", "S"),
           params=_p(max_next_days=14), message="随访分类为控制不满意，但无健康指导、用药调整、转诊或 {max_next_days} 天内复诊安排"),
    QcRule("F-10b", "连续两次控制不满意未转诊", Level.WARNING, "chronic_follow_ups",
           Source("F-10; HTN spec: 连续两次控制不满意应转诊 [htn-verification-form][yongxiu-eval-2017][spec2017-htn]", "V"),
           message="连续两次随访控制不满意（{previous_date}、{service_date}），未转诊"),
    QcRule("F-11", "症状勾选雷同", Level.SIGNAL, "chronic_follow_ups", Source("F-11 [htn-verification-form]", "U"),
           params=_p(max_share=0.9, min_patients=20), message="医生 {provider} 的 {patients} 名患者中 {share}% 勾选相同症状（代码 {symptoms}）"),
)


def rules() -> dict[str, QcRule]:
    out = {r.code: r for r in RULES}
    if len(out) != len(RULES):
        raise ValueError("duplicate QC rule code")
    return out


# --- duplicate records ------------------------------------------------------------------------
@dataclass(frozen=True)
class DedupPolicy:
    """How duplicate records (重复档案) are proposed for merging; the engine is ``gongwei.engine.dedup``.

    Exact duplicates are records sharing a (keyed hash of the) normalised identity number. Probabilistic
    matching (Fellegi–Sunter, Splink) serves the records exact matching cannot settle — missing or invalid numbers —
    on name (also as pinyin, for homophone characters), birth date, sex, unit (village › township ›
    county) and phone. Two records whose numbers are both valid and different are two people: the GB
    11643 check character catches every single-digit error and adjacent transposition, so a duplicate
    almost never carries two valid numbers, and twins or namesakes always do.
    """

    source: Source
    # match probability from which a pair is proposed for review and clustered. Nothing merges on its own
    # and an evaluator deducts for every duplicate left (10 points each [village-assessment-form]), so the queue takes every
    # pair more likely than not to be one person — the lower, "clerical review" threshold of
    # Fellegi–Sunter — rather than only near-certain ones
    review_threshold: float
    # share of true duplicates that the deterministic rules (same number; same name, birth date, sex and
    # village) find; scales the prior that two random records are one person
    deterministic_recall: float
    # m-probabilities: the share of true duplicate pairs at each level, levels in order of decreasing
    # agreement (the last is "none of these"); priors, refined by EM where the data are large enough
    m: Mapping[str, tuple[float, ...]]
    trusted_id_statuses: tuple[str, ...]  # numbers that identify a person (checksum and record agree)
    shared_phone_max: int  # a phone on more records than this is a unit or placeholder number


DEDUP = DedupPolicy(
    source=Source("exact on the normalised identity number; name + birth date + sex, village or phone as tie-breaker; "
                  "block on name + birth year + village [cq-ehr-2024][gd-ehr-interp]; [pingliang-2020q2]: 重复档案清零", "U"),
    review_threshold=0.5,
    deterministic_recall=0.8,
    m=MappingProxyType({
        "name": (0.80, 0.06, 0.08, 0.04, 0.02),  # same · same pinyin · one of ≥3 characters · one of 2 / similar pinyin · other
        "birth_date": (0.95, 0.04, 0.01),         # same · one digit or adjacent swap · other
        "sex": (0.99, 0.01),
        "unit": (0.70, 0.22, 0.06, 0.02),         # same village · same township · same county · other
        "phone": (0.70, 0.30),                    # same · different (where both are recorded)
        "id": (0.95, 0.05),                       # same · different (where at most one is trusted)
    }),
    trusted_id_statuses=("valid", "upgraded"),
    shared_phone_max=6,
)
