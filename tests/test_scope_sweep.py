"""Scope in one place: every use case of the application layer and every page, as every role, on every unit.

For each login (tests.test_admin.LOGINS) and each unit of the small region: a unit inside the login's subtree is
served and everything returned lies inside the subtree; a unit outside is refused (Refused / 403) — never an
empty answer, never a 500. Writes (merge, unmerge, close) of residents outside the subtree are refused and change
nothing. Every audit row written names only residents inside the subtree.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from gongwei.records import models as m
from gongwei.service import access, analysis, quality
from gongwei.service.errors import Refused
from tests.test_admin import LOGINS, ORG_UNITS
from tests.web_fixtures import client_for

CODES = [c for c, *_ in ORG_UNITS]
PARENT = {c: p for c, _n, _l, _k, p in ORG_UNITS}
ROLES = [u for u, _r, _c in LOGINS]
OWN_UNIT = {u: c for u, _r, c in LOGINS}


def _ancestors(code: str) -> set[str]:
    out = {code}
    while PARENT.get(code):
        code = PARENT[code]
        out.add(code)
    return out


def in_subtree(username: str, code: str) -> bool:
    return username == "sa" or OWN_UNIT[username] in _ancestors(code)


def _resident_paths_ok(actor, ids) -> bool:
    paths = m.Resident.objects.filter(pk__in=list(ids)).values_list("managing_unit__path", flat=True)
    return all(actor.sees_path(p) for p in paths)


@pytest.fixture
def region(web_region_with_results):
    return web_region_with_results


def use_cases(actor, code, snap):
    """Each read use case of the application layer on unit ``code``, with the unit codes its answer names."""
    folder = str(snap.folder)
    yield "indicators", lambda: {f.unit_code for f in analysis.indicators(
        actor, code, "2025", codes="H1,H2", snapshot=folder, compute=False).figures}
    yield "gaps", lambda: {p.unit_code for p in analysis.gap_list(actor, "H2", code, "2024", snapshot=folder).page.people}
    yield "worklist", lambda: {r["unit_code"] for r in analysis.worklist(
        actor, code, dt.date(2024, 12, 31), upcoming=True, snapshot=folder).rows}
    yield "roster", lambda: {r["unit_code"] for r in analysis.roster(actor, code, dt.date(2024, 12, 31),
                                                                      snapshot=folder).rows}
    yield "qc", lambda: {r["code"] for r in quality.qc_scorecard(
        actor, code, "2024", rules="ID-01", snapshot=folder).card.figures.to_pylist()}
    yield "duplicates", lambda: quality.duplicates(actor, code, snapshot=folder) and set()  # via the audit rows


def _served_units(username: str) -> list[str]:
    """Units a login is served on in the sweep: its own and the first unit below it (the engine runs for these;
    every other unit of the region is asked too, and must be refused)."""
    own = OWN_UNIT[username] if username != "sa" else "360426000000"
    below = [c for c in CODES if PARENT.get(c) == own][:1]
    return [own, *below]


def _once_per_unit(monkeypatch, module, name: str) -> None:
    """``module.name(engine or snapshot, unit_code, …)`` computed once per snapshot, unit and arguments in this
    test. The engine's answer for a unit does not depend on who asks (scope, masking and audit are the service
    layer's, which still runs for every role): the roles asking for the same unit share one evaluation of it."""
    real, seen = getattr(module, name), {}

    def shared(source, *args, **kw):
        snap = getattr(source, "snapshot", source)
        key = (snap.id, args, tuple(sorted((k, repr(v)) for k, v in kw.items() if k not in ("tree", "progress"))))
        if key not in seen:
            seen[key] = real(source, *args, **kw)
        return seen[key]

    monkeypatch.setattr(module, name, shared)


def test_every_use_case_as_every_role_on_every_unit(region, monkeypatch):
    from gongwei.engine import dedup, roster, worklist

    # the roster, the worklist and the duplicates of a unit: one evaluation per unit, not per role (12 calls for
    # the 5 units served; the engine's own tests check what they contain)
    _once_per_unit(monkeypatch, roster, "roster")
    _once_per_unit(monkeypatch, worklist, "items")
    _once_per_unit(monkeypatch, dedup, "find_duplicates")
    snap = region["snapshot"]
    for username in ROLES:
        actor = access.for_user(region["users"][username])
        served = _served_units(username)
        for code in CODES:
            if in_subtree(username, code) and code not in served:
                continue
            for name, call in use_cases(actor, code, snap):
                if in_subtree(username, code):
                    named = call() or set()
                    outside = {u for u in named if not in_subtree(username, u)}
                    assert not outside, f"{username} {name} {code}: answered with units outside the scope {outside}"
                else:
                    with pytest.raises(Refused):
                        call()
            # audit rows written for this login name only residents inside its subtree
            people = m.AccessedResident.objects.filter(log__user=region["users"][username])
            assert _resident_paths_ok(actor, people.values_list("resident_id", flat=True)), username


def test_writes_outside_the_subtree_are_refused_and_change_nothing(region):
    vd = access.for_user(region["users"]["vd"])  # 北门村
    own, other = "36042610020100001", "36042620020100001"
    before = list(m.Resident.objects.order_by("pk").values_list("pk", "status", "merged_into_id"))
    with pytest.raises(Refused):
        quality.merge(vd, own, other)
    with pytest.raises(Refused):
        quality.merge(vd, other, own)
    with pytest.raises(Refused):
        quality.close_from_list(vd, [{"record_no": other, "status": "dead", "date": "2025-01-01", "reason": "x"}])
    with pytest.raises(Refused):
        analysis.take_snapshot(vd)
    after = list(m.Resident.objects.order_by("pk").values_list("pk", "status", "merged_into_id"))
    assert before == after


def _web_patterns(resolver=None, prefix=""):
    """(route, name) of every web page that takes a unit code."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _web_patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and "<str:code>" in str(p.pattern) and prefix == "":
            yield str(p.pattern)


# values for the other parts of a unit page's URL
URL_PARTS = {"<str:indicator>": "H2"}


def test_every_unit_page_as_every_role_on_every_unit(region):
    routes = sorted(set(_web_patterns()))
    assert routes, "no unit pages found"
    for username in ROLES:
        c = client_for(username)
        for route in routes:
            for code in CODES:
                url = "/" + route.replace("<str:code>", code) + "?period=2025"
                for part, value in URL_PARTS.items():
                    url = url.replace(part, value)
                assert "<" not in url, f"add a value for {url} to URL_PARTS"
                status = c.get(url).status_code
                if in_subtree(username, code):
                    assert status in (200, 302, 409), f"{username} {url}: {status}"
                else:
                    assert status == 403, f"{username} {url}: {status} (expected 403)"


def test_admin_lists_as_every_role_show_only_the_subtree(region):
    for username in ROLES:
        c = client_for(username)
        actor = access.for_user(region["users"][username])
        for path in ("/admin/records/resident/", "/admin/records/chronicfollowup/", "/admin/records/enrollment/"):
            response = c.get(path)
            assert response.status_code in (200, 302, 403), f"{username} {path}"
        logs = m.AccessedResident.objects.filter(log__user=region["users"][username])
        assert _resident_paths_ok(actor, logs.values_list("resident_id", flat=True)), username


def test_every_job_page_as_every_role_on_a_job_of_every_unit(region, django_capture_on_commit_callbacks):
    """The job pages (/jobs/<id>/…) are keyed by job, not by unit: one job on each unit and one on the whole
    tree, every job page as every role — inside the subtree served (a download without an output file is a 404),
    outside refused."""
    from gongwei.service import jobs

    operator = access.operator()
    with django_capture_on_commit_callbacks(execute=False):  # queued nowhere: the rows are what is swept
        made = {code: jobs.start_export_indicators(operator, code, "2025") for code in CODES}
        made[None] = jobs.start_snapshot(operator)
    def all_routes(resolver, prefix=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from all_routes(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    routes = sorted({r for r in all_routes(get_resolver()) if "<int:job_id>" in r})
    assert len(routes) >= 3, routes
    for username in ROLES:
        c = client_for(username)
        listed = c.get("/jobs/")
        assert listed.status_code == 200
        for code, job in made.items():
            visible = username == "sa" if code is None else in_subtree(username, code)
            assert (f'href="/jobs/{job.pk}/"' in listed.content.decode()) == visible, (username, code)
            for route in routes:
                url = "/" + route.replace("<int:job_id>", str(job.pk))
                status = c.get(url).status_code
                expected = (404 if route.endswith("download/") else 200) if visible else 403
                assert status == expected, f"{username} {url} (job on {code}): {status}, expected {expected}"


# --- pages keyed by a resident's record number, and the registration pages (issue 11 §3) -----------------------------
# one resident in each village of the region (build_small_region numbers them village code + 00001…)
RECORD_OF = {c: f"{c}00001" for c, _n, level, _k, _p in ORG_UNITS if level == "village"}
# pages that change a record: served only to a role that may change residents (records.change_resident); a
# resident's password is issued by the same roles
WRITE_ROUTES = ("/edit/", "/close/", "/password/")
WRITERS = {"vd", "vd2", "ts", "ta", "sa"}
# values for the other parts of such a URL; {record_no} is the resident's (the small region has one hypertension
# follow-up F-<record_no> per resident)
RECORD_URL_PARTS = {"<str:program>": "hypertension", "<str:encounter_no>": "F-{record_no}"}
POST_ONLY = ("propose/",)  # answered to POST only (HTMX)


def _record_routes() -> list[str]:
    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern)

    return sorted({r for r in walk(get_resolver()) if "<str:record_no>" in r})


def test_every_record_page_as_every_role_on_a_record_of_every_village(region):
    routes = _record_routes()
    assert len(routes) >= 3 and any("follow-up" in r for r in routes), routes
    form = {"service_date": "2024-06-03", "mode": "1", "sbp": "128", "dbp": "78"}
    for username in ROLES:
        c = client_for(username)
        for village, record_no in RECORD_OF.items():
            for route in routes:
                url = "/" + route.replace("<str:record_no>", record_no)
                for part, value in RECORD_URL_PARTS.items():
                    url = url.replace(part, value.format(record_no=record_no))
                assert "<" not in url, f"add a value for {url} to RECORD_URL_PARTS"
                status = (c.post(url, form) if url.endswith(POST_ONLY) else c.get(url)).status_code
                writes = any(url.endswith(w) for w in WRITE_ROUTES)
                refused = not in_subtree(username, village) or (writes and username not in WRITERS)
                expected = 403 if refused else 200
                assert status == expected, f"{username} {url}: {status}, expected {expected}"
            # a write posted outside the scope is refused and changes nothing
            if not in_subtree(username, village):
                before = m.Resident.objects.filter(record_no=record_no).values_list("status", "version").get()
                for route in routes:
                    url = "/" + route.replace("<str:record_no>", record_no)
                    for part, value in RECORD_URL_PARTS.items():
                        url = url.replace(part, value.format(record_no=record_no))
                    if any(url.endswith(w) for w in WRITE_ROUTES):
                        data = {"version": "1", "resident_version": "1", "record_version": "1", "status": "dead",
                                "date": "2025-01-01", "reason": "x", "name": "改名", "sex": "1"}
                        assert c.post(url, data).status_code == 403, f"{username} POST {url}"
                after = m.Resident.objects.filter(record_no=record_no).values_list("status", "version").get()
                assert before == after
        actor = access.for_user(region["users"][username])
        people = m.AccessedResident.objects.filter(log__user=region["users"][username])
        assert _resident_paths_ok(actor, people.values_list("resident_id", flat=True)), username
    assert not m.ChronicFollowUp.objects.filter(service_date=dt.date(2024, 6, 3)).exists()


def test_registration_pages_never_answer_outside_the_scope(region):
    """The registration form, the household lookup and the duplicate check, for every role and every village: a
    village outside the scope is refused; the duplicate check of a number registered outside the scope says only
    that a record exists elsewhere — never its number, name or unit."""
    people = {r.record_no: r for r in m.Resident.objects.select_related("managing_unit")}
    for username in ROLES:
        c = client_for(username)
        for village in RECORD_OF:
            inside = in_subtree(username, village)
            ok = 200 if inside and username in WRITERS else 403
            assert c.get(f"/residents/new/?village={village}").status_code == ok, (username, village)
            assert c.get(f"/residents/new/households/?village={village}&q=居民").status_code == ok, (username, village)
        if username not in WRITERS:
            assert c.post("/residents/new/check/", {"id_number": "x"}).status_code == 403
            continue
        own = next(v for v in RECORD_OF if in_subtree(username, v))
        for record_no, r in people.items():
            html = c.post("/residents/new/check/", {"village": own, "id_type": "01", "id_number": r.id_number,
                                                    "name": "某人", "birth_date": ""}).content.decode()
            if in_subtree(username, r.managing_unit.code):
                assert record_no in html, (username, record_no)
            else:
                assert "其他机构已有同一身份证号的档案" in html, (username, record_no)
                for secret in (record_no, r.name, r.managing_unit.name, r.phone):
                    assert secret not in html, (username, record_no, secret)


def test_every_sample_page_as_every_role_on_a_sample_of_every_unit(region):
    """The verification sample pages (/samples/<sample_no>/, issue 13) are keyed by sample, not by unit: one sample
    drawn on each unit, every sample page as every role — inside the subtree served, outside refused."""
    from gongwei.service import verification

    operator = access.operator()
    made = {code: verification.draw(operator, "H2", code, "2024", part="denominator", size=1, seed=1).sample_no
            for code in CODES}
    def sample_routes(resolver):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver) and str(p.pattern) == "":
                yield from sample_routes(p)
            elif isinstance(p, URLPattern) and "<str:sample_no>" in str(p.pattern):
                yield str(p.pattern)

    routes = sorted(set(sample_routes(get_resolver())))
    assert routes == ["samples/<str:sample_no>/"]
    for username in ROLES:
        c = client_for(username)
        for route in routes:
            for code, sample_no in made.items():
                status = c.get("/" + route.replace("<str:sample_no>", sample_no)).status_code
                if in_subtree(username, code):
                    assert status == 200, f"{username} {sample_no} ({code}): {status}"
                else:
                    assert status == 403, f"{username} {sample_no} ({code}): {status} (expected 403)"
