"""``gongwei survey …``: start an awareness or satisfaction survey on a sample, enter questionnaires, rates."""

from __future__ import annotations

import argparse

from gongwei.cli.face import actor
from gongwei.service.errors import BadRequest


def _answers(text: str | None) -> dict[str, str]:
    out = {}
    for part in (text or "").replace("，", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise BadRequest(f"答案“{part}”无效：应写成 问题=答案代码，如 S1=2,S2=1,S3=2")
        out[key.strip()] = value.strip()
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("survey", help="知晓率、满意度调查：发起、录入问卷、各机构比率",
                       description="在已抽取的样本上开展知晓率或满意度调查，每人一份问卷，按机构计算比率"
                       "（Wilson 置信区间）及与上次调查相比的变化。")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("start", help="在样本上发起调查")
    s.add_argument("sample_no", help="样本编号（gongwei sample draw 抽取）")
    s.add_argument("questionnaire", choices=["awareness", "satisfaction"],
                   help="awareness 知晓率调查问卷，satisfaction 满意度调查问卷")
    s.add_argument("--mode", default="phone", choices=["phone", "visit", "online"],
                   help="phone 电话调查（默认），visit 入户调查，online 线上调查")
    s.set_defaults(func=_start)
    sh = actions.add_parser("show", help="显示调查对象及问卷情况")
    sh.add_argument("survey_no", help="调查编号")
    sh.set_defaults(func=_show)
    a = actions.add_parser("answer", help="录入一份问卷", description="有效问卷须回答全部必答题（--answers S1=2,S2=1,S3=2）；"
                           "拒绝调查、无法联系、非本人作答不填答案。")
    a.add_argument("survey_no", help="调查编号")
    a.add_argument("position", type=int, help="序号")
    a.add_argument("status", choices=["answered", "refused", "unreachable", "proxy"],
                   help="answered 有效问卷，refused 拒绝调查，unreachable 无法联系，proxy 非本人作答")
    a.add_argument("--answers", default="", help="问题=答案代码，逗号分隔")
    a.add_argument("--note", default="", help="说明")
    a.add_argument("--version", type=int, help="问卷版本（防止覆盖他人的修改）")
    a.set_defaults(func=_answer)
    r = actions.add_parser("rates", help="调查的比率（总体和各机构）及变化")
    r.add_argument("survey_no", help="调查编号")
    r.set_defaults(func=_rates)
    u = actions.add_parser("units", help="某期间各机构的知晓率、满意度（供绩效评价和通报）")
    u.add_argument("period", help="期间")
    u.add_argument("--unit", action="append", help="只显示这些机构（可重复）")
    u.add_argument("--questionnaire", choices=["awareness", "satisfaction"], help="只统计该问卷")
    u.set_defaults(func=_units)


def _start(args: argparse.Namespace) -> int:
    from gongwei.reports.surveys import survey_text
    from gongwei.service import surveys

    print(survey_text(surveys.start(actor(args), args.sample_no, args.questionnaire, mode=args.mode)))
    return 0


def _show(args: argparse.Namespace) -> int:
    from gongwei.reports.surveys import survey_text
    from gongwei.service import surveys

    print(survey_text(surveys.show(actor(args), args.survey_no)))
    return 0


def _answer(args: argparse.Namespace) -> int:
    from gongwei.service import surveys

    row = surveys.answer(actor(args), args.survey_no, args.position, args.status, _answers(args.answers),
                         note=args.note, version=args.version)
    print(f"已录入调查 {args.survey_no} 序号 {row.position}（{row.record_no}）：{row.status_name}"
          + (f"，{row.deciding_answer}" if row.deciding_answer else ""))
    return 0


def _rates(args: argparse.Namespace) -> int:
    from gongwei.reports.surveys import rates_text
    from gongwei.service import surveys

    print(rates_text(surveys.rates(actor(args), args.survey_no)))
    return 0


def _units(args: argparse.Namespace) -> int:
    from gongwei.reports.surveys import units_text
    from gongwei.service import surveys
    from gongwei.spec.surveys import QUESTIONNAIRES

    found = surveys.survey_rates_by_unit(actor(args), args.period, questionnaire=args.questionnaire, units=args.unit)
    print(units_text(found, args.period, {q.code: q.rate_name for q in QUESTIONNAIRES.values()}))
    return 0
