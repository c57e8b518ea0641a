"""Verification of sampled records (核查): how a sampled person is checked, the coded outcomes, which outcomes
count as genuine, which need a note, and which reveal fabrication and so raise a finding in the rectification
ledger. Data only; ``gongwei.service.verification`` applies it.

The methods are the ones supervision reports name — phone interviews, on-site (household) checks and remote
review on the provincial platform [city-rectification-2023]; evaluators verify "线下看质量、入户看效果"
[shangdang-2023]. The outcome codes follow the evaluators' verification form, where one mismatch makes a
record not genuine [htn-verification-form], and the data-verification module of the WHO data quality review,
which computes a verified share per facility [who-dqr-2017].
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import Source
from gongwei.spec.vocab import Vocab


class CheckMethod(Vocab):
    """How one sampled item is verified."""

    PHONE = "phone", "电话核查"
    VISIT = "visit", "入户核查"
    REMOTE = "remote", "远程复核"


METHOD_SOURCE = Source("电话访谈、现场核查、省基本公卫系统远程复核 [city-rectification-2023]", "S")


class Outcome(Vocab):
    """The coded result of verifying one sampled person."""

    CONFIRMED = "confirmed", "服务属实"
    NOT_FOUND = "not_found", "查无此人"
    NOT_RECEIVED = "not_received", "未接受该服务"
    WRONG_INFO = "wrong_info", "信息不符"
    REFUSED = "refused", "拒绝核查"
    UNREACHABLE = "unreachable", "无法联系"


class Counts(Vocab):
    """How an outcome counts in the verified-genuine rate."""

    GENUINE = "genuine", "真实"
    NOT_GENUINE = "not_genuine", "不真实"
    EXCLUDED = "excluded", "不计入（未核实）"


@dataclass(frozen=True)
class OutcomeRule:
    outcome: Outcome
    counts: Counts
    note_required: bool  # a note saying what happened is required (refusals, unreachable, mismatches)
    field_required: bool  # which field was wrong must be named
    finding_rule: str  # a rectification-ledger rule code raised by this outcome ("" none: not fabrication)
    source: Source


OUTCOMES: dict[Outcome, OutcomeRule] = {r.outcome: r for r in (
    OutcomeRule(Outcome.CONFIRMED, Counts.GENUINE, False, False, "",
                Source("有效接通且所述服务与档案一致 [htn-verification-form]", "V")),
    OutcomeRule(Outcome.NOT_FOUND, Counts.NOT_GENUINE, True, False, "VF-01",
                Source("查无此人：虚假档案 [htn-verification-form][who-dqr-2017]", "V")),
    OutcomeRule(Outcome.NOT_RECEIVED, Counts.NOT_GENUINE, True, False, "VF-02",
                Source("档案有服务记录但本人称未接受：不真实 [htn-verification-form]", "V")),
    # one mismatch makes the record not genuine on the evaluators' form; not fabrication by itself (a typo in a
    # phone number), so no finding is raised: the unit corrects the field
    OutcomeRule(Outcome.WRONG_INFO, Counts.NOT_GENUINE, True, True, "",
                Source("任一项不一致即判为不真实 [htn-verification-form]", "V")),
    # not verified: out of the rate's denominator (the rate is of the people actually checked); a scheme that
    # counts "phone unreachable" as not genuine for key populations is a scoring rule of the evaluation
    OutcomeRule(Outcome.REFUSED, Counts.EXCLUDED, True, False, "",
                Source("拒绝核查：不计入核实样本 [who-dqr-2017]", "U")),
    OutcomeRule(Outcome.UNREACHABLE, Counts.EXCLUDED, True, False, "",
                Source("无电话、错号、空号、停机、无人接听：未核实 [htn-verification-form]", "U")),
)}


class WrongField(Vocab):
    """Which part of the record did not match what the person said (for ``wrong_info``)."""

    NAME = "name", "姓名"
    ID_NUMBER = "id_number", "身份证号"
    PHONE = "phone", "联系电话"
    ADDRESS = "address", "住址"
    SERVICE_DATE = "service_date", "服务日期"
    SERVICE_CONTENT = "service_content", "服务内容"
    MEASUREMENT = "measurement", "测量值（血压、血糖等）"
    MEDICATION = "medication", "用药情况"
    OTHER = "other", "其他"


@dataclass(frozen=True)
class FindingRule:
    """A rectification-ledger rule raised by a verification outcome (codes outside the QC rulebook's)."""

    code: str
    name: str
    message: str  # Chinese template: {sample}, {outcome}, {method}, {note}
    source: Source


FINDING_RULES: dict[str, FindingRule] = {r.code: r for r in (
    FindingRule("VF-01", "核查查无此人（疑似虚假档案）", "抽样核查 {sample}（{method}）：{outcome}。{note}",
                Source("核查发现虚假档案，弄虚作假一票否决 [subdistrict-2017][htn-verification-form]", "S")),
    FindingRule("VF-02", "核查未接受服务（疑似虚假服务）", "抽样核查 {sample}（{method}）：{outcome}。{note}",
                Source("核查发现虚假服务记录，弄虚作假一票否决 [subdistrict-2017][htn-verification-form]", "S")),
)}
FINDING_TABLE = "verification_items"  # the ledger's "table" of these findings: the sampled item is the evidence
NOTE_MAX = 300
