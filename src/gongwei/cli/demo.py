"""``gongwei demo``: migrate, build a synthetic demo region if the database is empty and run the first quality
evaluation on it, create one login per role, print them with the page each should open first, and serve the
admin on the local machine.

The region lies in 崆峒区, 平凉市, 甘肃省: its townships and villages carry the real names of that county
(:mod:`gongwei.synth.pingliang`). Nothing is installed: no browser, no fonts, no system package.

Static files (the admin's CSS and JavaScript) are served by Django's own ``runserver --insecure`` from
the installed packages: nothing comes from the internet and no extra dependency is needed. This is a
demonstration server; a production install puts a real web server in front and serves
``gongwei manage collectstatic`` output from ``STATIC_ROOT``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import unicodedata
from dataclasses import dataclass

DEFAULT_RESIDENTS = 100_000  # a few townships of one county: ~20 s to build on SQLite (measured)
DEFAULT_SEED = 20240601
DEFAULT_MONTHS: int | None = None  # synth default: from 1 January of the previous year to today
DEMO_PASSWORD = "gongwei-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str  # gongwei.spec.vocab.Role value
    level: str  # OrgLevel of the unit the login sits at ("top" = the root of the tree)
    staff_code: str
    name: str


# The page each demo login opens first (path on the demo server), and why. One place to change when the
# web pages replace the admin.
START_PAGES: dict[str, tuple[str, str]] = {
    "village_doctor": ("/residents/", "查找本村居民，打开健康档案首页"),
    "township_staff": ("/", "本乡镇指标看板，点缺口人数看到人"),
    "township_admin": ("/admin/records/staff/", "本乡镇人员和家庭医生团队"),
    "supervisor": ("/", "县区指标看板：落后乡镇 → 村 → 缺口人员 → 导出"),
    "evaluator": ("/", "市级指标看板"),
    "sysadmin": ("/jobs/", "后台任务：快照、指标计算、质控评估"),
}

DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("village_doctor", "village_doctor", "village", "DEMO-VD", "演示村医"),
    DemoLogin("township_staff", "township_staff", "township", "DEMO-TS", "演示公卫人员"),
    DemoLogin("township_admin", "township_admin", "township", "DEMO-TA", "演示乡镇管理员"),
    DemoLogin("supervisor", "supervisor", "county", "DEMO-SV", "演示督导员"),
    DemoLogin("evaluator", "evaluator", "city", "DEMO-EV", "演示评价员"),
    DemoLogin("sysadmin", "system_admin", "top", "DEMO-SA", "演示系统管理员"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="建立演示数据和各角色账号，并在本机启动管理界面",
        description="创建或升级数据库表结构；数据库中还没有机构时，生成一个合成演示地区（居民、档案、专案、"
        "随访、体检……）；为每个角色各建一个登录账号并打印账号表；然后在本机启动管理界面（静态文件由本机提供，"
        "无需联网）。重复运行不会重复建数据或账号。",
    )
    p.add_argument("--residents", type=int, default=DEFAULT_RESIDENTS, metavar="N",
                   help=f"演示地区的居民人数（默认 {DEFAULT_RESIDENTS:,}，一个县区的几个乡镇，约半分钟建好）")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"随机种子（默认 {DEFAULT_SEED}）")
    p.add_argument("--months", type=int, default=DEFAULT_MONTHS, metavar="M",
                   help="生成最近多少个月的服务记录（默认从上一年1月1日到今天）")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机可访问）")
    p.add_argument("--port", type=int, default=8000, help="监听端口（默认 8000）")
    p.add_argument("--no-serve", action="store_true", help="只建数据和账号，不启动服务")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from gongwei.quality.models import Finding
    from gongwei.records import demo as demo_marker
    from gongwei.records import models as m
    from gongwei.records import roles

    out = sys.stdout
    out.write("正在创建或升级数据库表结构……\n")
    call_command("migrate", interactive=False, verbosity=0)
    roles.ensure_groups()
    if not m.OrgUnit.objects.exists():
        demo_marker.mark_demo_database()
        out.write(f"数据库中还没有机构：正在生成演示地区（{args.residents:,} 名居民，种子 {args.seed}）……\n")
        started = time.monotonic()
        build_region(args.residents, args.seed, args.months)
        out.write(f"演示地区已建好，用时 {time.monotonic() - started:.0f} 秒。\n")
        out.write("正在进行首次计算（生成快照；计算今年和去年的指标供看板读取；运行全部已实现的质控规则，问题存入整改台账）……\n")
        out.write(first_evaluation() + "\n")
    elif not demo_marker.is_demo_database():
        # demo logins share one published password: never create them, or reset a password, in real data
        sys.stderr.write(
            "此数据库不是由 gongwei demo 建立的（没有演示数据库标记），为保护真实数据，不创建演示账号、不重置任何密码。"
            "如需演示，请设置另一个 GONGWEI_DATA_DIR 或 DATABASE_URL 指向一个空数据库后再运行 gongwei demo。\n")
        return 2
    else:
        out.write(f"数据库中已有 {m.OrgUnit.objects.count():,} 个机构、{m.Resident.objects.count():,} 名居民，"
                  "不再生成演示地区。\n")
        if not Finding.objects.exists():  # a demo database built before the demo ran its first evaluation
            out.write("尚无质控问题，正在进行首次计算……\n")
            out.write(first_evaluation() + "\n")
    rows = ensure_logins()
    base = f"http://{_shown_host(args.host)}:{args.port}"
    out.write("\n" + format_table(
        ["用户名", "密码", "角色", "所属机构", "可见范围", "先打开"],
        [[r["username"], r["password"], r["role"], r["unit"], r["scope"], r["start"]] for r in rows],
    ) + "\n\n各账号登录后先打开的页面：\n")
    for r in rows:
        out.write(f"  {r['username']}：{base}{r['start_path']}\n")
    if args.no_serve:
        return 0
    return serve(args.host, args.port)


# --- region -------------------------------------------------------------------------------------------
def build_region(residents: int, seed: int, months: int | None = DEFAULT_MONTHS) -> None:
    """Generate a synthetic region and load it through the entry layer (gongwei.synth)."""
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    region = generate_region(residents, seed, as_of=dt.date.today(), months=months)
    load_region(region)


def first_evaluation(as_of: dt.date | None = None) -> str:
    """The nightly refresh, run once now (gongwei.service.jobs.nightly): a snapshot of the new region, the
    indicators the dashboards read (this year and last, calendar and maternal–child) and the QC findings of
    the year kept in the rectification ledger. Returns its summary; it is also in the job history."""
    from gongwei.service import jobs

    job = jobs.nightly(as_of)
    if job.status != "done":
        raise RuntimeError(f"首次计算失败：{job.error or job.step}")
    return job.summary


# --- logins -------------------------------------------------------------------------------------------
def _unit_for(level: str):
    """A unit of ``level`` on one branch of the tree: the first village clinic (else the first village) and
    its ancestors."""
    from gongwei.records import models as m
    from gongwei.spec import vocab as v

    if level == "top":
        return m.OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    villages = m.OrgUnit.objects.filter(level=v.OrgLevel.VILLAGE, is_active=True).order_by("code")
    # a village doctor works in a 村卫生室; a 社区卫生服务站 is the urban counterpart
    village = villages.filter(kind=v.OrgKind.VILLAGE_CLINIC).first() or villages.first()
    if village is None:
        return m.OrgUnit.objects.filter(level=level).order_by("code").first()
    ids = [int(p) for p in village.path.strip("/").split("/")]
    chain = {u.level: u for u in m.OrgUnit.objects.filter(pk__in=ids)}
    return chain.get(level) or m.OrgUnit.objects.filter(level=level).order_by("code").first()


def ensure_logins(password: str = DEMO_PASSWORD) -> list[dict[str, str]]:
    """One login per role at a suitable unit, each with a staff profile; idempotent. Returns the table rows."""
    import pyarrow as pa
    from django.contrib.auth import get_user_model

    from gongwei.records import entry, roles, scoping
    from gongwei.records import models as m
    from gongwei.spec import vocab as v

    User = get_user_model()
    rows: list[dict[str, str]] = []
    units = {login.level: _unit_for(login.level) for login in DEMO_LOGINS}
    staff_rows = [
        {"code": login.staff_code, "org_unit": units[login.level].code, "role": login.role, "name": login.name,
         "phone": ""}
        for login in DEMO_LOGINS if units[login.level] is not None
    ]
    if staff_rows:
        table = pa.table({k: pa.array([r[k] for r in staff_rows], pa.string()) for k in staff_rows[0]})
        # existing demo staff whose unit or role is unchanged are left as they are (natural key = code)
        entry.submit({"staff": table}, actor="gongwei demo", kind="entry", source="演示账号")
    for login in DEMO_LOGINS:
        unit = units[login.level]
        if unit is None:
            continue
        user, _ = User.objects.get_or_create(username=login.username)
        user.is_staff = True
        user.is_active = True
        user.first_name = login.name
        user.set_password(password)
        user.save()
        staff = m.Staff.objects.get(code=login.staff_code)
        m.Staff.objects.filter(user=user).exclude(pk=staff.pk).update(user=None)
        if staff.user_id != user.pk:
            m.Staff.objects.filter(pk=staff.pk).update(user=user)
        roles.sync_user_groups(user)
        scope = scoping.scope_for(user)
        path, what = START_PAGES[login.username]
        rows.append({
            "username": login.username, "password": password, "role": v.Role(login.role).zh, "unit": unit.name,
            "scope": "全部机构" if scope.everything else f"{unit.name}及下级（{unit.subtree().count()} 个机构）",
            "start": what, "start_path": path,
        })
    return rows


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table aligned for CJK characters (two columns wide each)."""
    widths = [max(_width(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=False)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


# --- serving ------------------------------------------------------------------------------------------
def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def serve(host: str, port: int) -> int:
    from django.conf import settings
    from django.core.management import call_command

    if host not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append("*" if host in ("0.0.0.0", "::") else host)
    sys.stdout.write(f"\n请用浏览器打开 http://{_shown_host(host)}:{port}/ ，用上表中的账号登录"
                     "（各账号先打开的页面见上）。按 Ctrl+C 停止服务。\n")
    sys.stdout.flush()
    # the web server with the background-job worker beside it (gongwei manage serve)
    call_command("serve", host=host, port=port)
    return 0
