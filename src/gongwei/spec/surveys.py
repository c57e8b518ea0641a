"""Awareness (知晓率) and satisfaction (满意度) surveys: the questionnaires as data — questions, answer codes, which
answer of the deciding question counts a respondent as aware or satisfied — how a respondent who gave no answer is
coded, and how the rate is counted. Data only; ``gongwei.service.surveys`` applies it.

Evaluators draw residents at equal intervals from the platform's records and survey them: "通过等间距抽样，抽取…
居民档案数据，开展线上知晓率和满意度调查工作。本次有效问卷187人，表示满意的152人" [shangdang-2023]. So the rate is
the respondents who said so over the valid questionnaires (152 ÷ 187 = 81.28 %), and refusals and people who
could not be reached are not valid questionnaires. The questions follow the published awareness and satisfaction
questionnaire: whether the resident knows the services are free, which services they received, how they heard of
them, and how satisfied they are [survey-questionnaire]. Respondents must be people who received the services and
answer for themselves, no proxy answers [survey-questionnaire].
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.spec.rules import Source
from gongwei.spec.vocab import Vocab


class SurveyMode(Vocab):
    """How the questionnaire is put to the respondent."""

    PHONE = "phone", "电话调查"
    VISIT = "visit", "入户调查"
    ONLINE = "online", "线上调查"


MODE_SOURCE = Source("入户、电话或拦截调查 [survey-questionnaire]；线上知晓率和满意度调查 [shangdang-2023]", "S")


class RespondentStatus(Vocab):
    """What became of one sampled respondent. Only ``answered`` is a valid questionnaire (有效问卷)."""

    ANSWERED = "answered", "有效问卷"
    REFUSED = "refused", "拒绝调查"
    UNREACHABLE = "unreachable", "无法联系"
    PROXY = "proxy", "非本人作答（无效）"


STATUS_SOURCE = Source("有效问卷为分母 [shangdang-2023]；不得代答 [survey-questionnaire]", "S")


@dataclass(frozen=True)
class Answer:
    code: str  # written in the database: stable
    text: str


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    answers: tuple[Answer, ...]
    required: bool = True  # a valid questionnaire answers it

    def answer(self, code: str) -> Answer | None:
        return next((a for a in self.answers if a.code == code), None)


@dataclass(frozen=True)
class Questionnaire:
    code: str
    name: str  # 知晓率调查问卷 …
    rate_name: str  # 知晓率 / 满意度
    positive_name: str  # what a counted respondent is called: 知晓 / 满意
    questions: tuple[Question, ...]
    deciding: str  # the question whose answer decides whether the respondent counts
    positive: frozenset[str]  # the deciding question's answers that count
    source: Source

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)


YES_NO = (Answer("1", "知道"), Answer("2", "不知道"))
SERVICES = (Answer("1", "是"), Answer("2", "否"), Answer("9", "记不清"))
SATISFACTION_SCALE = (Answer("1", "很满意"), Answer("2", "满意"), Answer("3", "一般"), Answer("4", "不满意"),
                      Answer("5", "很不满意"))

AWARENESS = Questionnaire(
    code="awareness", name="基本公共卫生服务知晓率调查问卷", rate_name="知晓率", positive_name="知晓",
    questions=(
        Question("A1", "您是否知道国家免费为城乡居民提供基本公共卫生服务？", YES_NO),
        Question("A2", "近一年您是否在村卫生室（社区卫生服务站）或乡镇卫生院接受过免费的健康体检、随访等服务？", SERVICES),
        Question("A3", "您是否知道自己的家庭医生（签约医生）是谁？", YES_NO),
        Question("A4", "您是通过什么途径知道这些服务的？",
                 (Answer("1", "医务人员告知"), Answer("2", "宣传栏、宣传单"), Answer("3", "电视、广播、网络"),
                  Answer("4", "亲友告知"), Answer("5", "其他"), Answer("9", "不知道这些服务")), required=False),
    ),
    deciding="A1", positive=frozenset({"1"}),
    source=Source("知晓：知道基本公卫服务免费、接受过哪些服务、从何得知 [survey-questionnaire]；"
                  "知晓率 = 知晓人数 ÷ 有效问卷数 [shangdang-2023]", "V"),
)

SATISFACTION = Questionnaire(
    code="satisfaction", name="基本公共卫生服务满意度调查问卷", rate_name="满意度", positive_name="满意",
    questions=(
        Question("S1", "总体来说，您对村医（社区医生）提供的基本公共卫生服务是否满意？", SATISFACTION_SCALE),
        Question("S2", "您对医务人员的服务态度是否满意？", SATISFACTION_SCALE),
        Question("S3", "您对健康体检、随访等服务的结果告知和健康指导是否满意？", SATISFACTION_SCALE),
        Question("S4", "与上一年相比，您觉得基本公共卫生服务有没有改善？",
                 (Answer("1", "有改善"), Answer("2", "没有变化"), Answer("3", "变差"), Answer("9", "说不清")),
                 required=False),
    ),
    # 很满意 and 满意 are "表示满意的"; a five-point scale whose top two count is the questionnaire's reading
    deciding="S1", positive=frozenset({"1", "2"}),
    source=Source("满意度 = 表示满意的人数 ÷ 有效问卷数：有效问卷187人，表示满意的152人 [shangdang-2023]；"
                  "五级满意度量表，很满意与满意计为满意 [survey-questionnaire]", "S"),
)

QUESTIONNAIRES: dict[str, Questionnaire] = {q.code: q for q in (AWARENESS, SATISFACTION)}
NOTE_MAX = 300
