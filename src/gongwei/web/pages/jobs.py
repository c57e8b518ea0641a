"""Background jobs in the browser: the history, a form to start the jobs the login may run, a job's progress
(polled by static/gongwei/jobs.js from :func:`status`), and the download of its output file."""

from __future__ import annotations

from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongwei.jobs.models import Job, JobKind
from gongwei.service import jobs, navigation
from gongwei.service.errors import BadRequest
from gongwei.web.faces import actor, error_page, page

SHOWN = 100  # the newest jobs on the list page


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)d 秒") % {"s": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)d 分 %(s)d 秒") % {"m": minutes, "s": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": minutes}


def _describe(job: Job) -> str:
    """What the job works on, in words: 蒲亭镇卫生院 · 2025 · 规则 ……"""
    p = job.parameters or {}
    parts = [job.target.name if job.target else _("全部机构")]
    if p.get("period"):
        parts.append(_("期间 %(v)s") % {"v": p["period"]})
    if p.get("date"):
        parts.append(_("日期 %(v)s") % {"v": p["date"]})
    if p.get("codes"):
        parts.append(_("指标 %(v)s") % {"v": p["codes"]})
    if p.get("rules"):
        parts.append(_("规则 %(v)s") % {"v": p["rules"]})
    if p.get("files"):
        files = "、".join(p["files"][:4])
        parts.append(_("文件 %(v)s 等") % {"v": files} if len(p["files"]) > 4 else _("文件 %(v)s") % {"v": files})
    return " · ".join(parts)


def _payload(job: Job) -> dict:
    return {"id": job.pk, "status": job.status, "status_text": job.get_status_display(), "progress": job.progress,
            "step": job.step, "summary": job.summary, "error": job.error, "finished": job.finished,
            "duration": _duration(job.seconds), "download": bool(job.output) and job.finished,
            "started": timezone.localtime(job.started_at).strftime("%Y-%m-%d %H:%M:%S") if job.started_at else ""}


def _defaults(who) -> dict:
    year = timezone.localdate().year
    here = navigation.landing(who)
    return {"period": str(year), "org": here.code, "org_name": here.name}


@page
@require_http_methods(["GET", "POST"])
def job_list(request):
    who = actor(request)
    if request.method == "POST":
        return _start(request, who)
    rows = list(jobs.visible(who)[:SHOWN])
    for job in rows:
        job.duration = _duration(job.seconds)
        job.described = _describe(job)
    return render(request, "web/jobs/list.html", {
        "jobs": rows, "kinds": set(jobs.allowed_kinds(who)), "defaults": _defaults(who), "Kind": JobKind,
        "shown": SHOWN})


def _start(request, who):
    form = request.POST
    kind = form.get("kind", "")
    if kind not in {k.value for k in jobs.allowed_kinds(who)}:
        if kind in JobKind.values:
            return error_page(request, 403, _("您无权启动“%(kind)s”任务") % {"kind": JobKind(kind).label})
        raise BadRequest(_("任务类型“%(kind)s”无效") % {"kind": kind})
    period = form.get("period", "").strip()
    if kind == JobKind.SNAPSHOT:
        job = jobs.start_snapshot(who)
    elif kind == JobKind.CATALOGUE:
        job = jobs.start_catalogue(who, period, codes=form.get("codes", "").strip() or None)
    elif kind == JobKind.QC:
        job = jobs.start_qc(who, period)
    elif kind == JobKind.EXPORT_INDICATORS:
        job = jobs.start_export_indicators(who, form.get("org", "").strip(), period,
                                           codes=form.get("codes", "").strip() or None)
    else:
        files = [(f.name, f) for f in request.FILES.getlist("files")]
        job = jobs.start_import(who, files, accept_valid=form.get("accept_valid") == "1")
    return redirect("web:job", job_id=job.pk)


@page
@require_GET
def job_detail(request, job_id: int):
    job = jobs.get(actor(request), job_id)
    return render(request, "web/jobs/detail.html", {"job": job, "state": _payload(job),
                                                    "described": _describe(job)})


@page
@require_GET
def job_status(request, job_id: int):
    job = jobs.get(actor(request), job_id)
    return JsonResponse(_payload(job), json_dumps_params={"ensure_ascii": False})


@page
@require_GET
def job_download(request, job_id: int):
    path, name = jobs.download(actor(request), job_id)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
