"""The simulated users of the web benchmark (:mod:`gongwei.benchmarks.web` runs locust on this file).

Two roles, as many users of each: a county **supervisor** (督导员) who reads the county dashboard, drills into
townships and indicators, opens gap lists of villages, the findings list and the duplicate queue, and sometimes
looks a person up; and a **village doctor** (村医) who mostly finds residents and opens their record's home page,
opens the worklist (where the build has one), enters hypertension follow-ups (opens the form, posts a controlled
visit) and sometimes the village's gap lists and findings. Each user logs in as its role first (the login is
reported apart). Think time between pages: ``GONGWEI_BENCH_WAIT`` ("1,4" s).

Every request's own time goes to ``GONGWEI_BENCH_SAMPLES`` (JSON) at the end, so percentiles are exact
(locust rounds its own). Any answer other than 200 — a redirect to the login page included — is an error; a
follow-up save must answer 302 to the record page. Each save carries a marker of its own in its guidance text,
and the markers of the saves answered 302 go to the samples file too, so the benchmark can check afterwards that
every acknowledged save is in the database, whole (:func:`gongwei.benchmarks.web.check_saves`).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["GONGWEI_BENCH_TARGETS"]).read_text(encoding="utf-8"))
LOW, HIGH = (float(x) for x in os.environ.get("GONGWEI_BENCH_WAIT", "1,4").split(","))
RUN = os.environ.get("GONGWEI_BENCH_RUN", "run")  # marks this run's saves apart from earlier runs' on --reuse
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

_ms: dict[str, list[float]] = defaultdict(list)
_at: dict[str, list[float]] = defaultdict(list)  # when each request ended (epoch s), to tell the ramp-up apart
_requests: dict[str, int] = defaultdict(int)
_errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_started = time.time()
_spawned = 0.0  # when the last user had started (and logged in soon after): the end of the ramp-up
_saved: list[dict] = []  # the follow-ups the server acknowledged (302), to be found in the database afterwards


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    _requests[name] += 1
    _at[name].append(time.time())
    if exception is None:
        _ms[name].append(response_time)
    else:
        _errors[name][str(exception)[:120]] += 1
        _ms[name].append(response_time)  # a slow error is still time a user waited


@events.quitting.add_listener
def _write(environment, **kwargs):
    pages = {n: {"requests": _requests[n], "errors": sum(_errors[n].values()), "error_kinds": dict(_errors[n]),
                 "ms": _ms[n], "at": _at[n]} for n in _requests}
    Path(os.environ["GONGWEI_BENCH_SAMPLES"]).write_text(
        json.dumps({"pages": pages, "seconds": time.time() - _started, "saves": _saved, "spawned_at": _spawned}),
        encoding="utf-8")


@events.spawning_complete.add_listener
def _spawning_complete(user_count, **kwargs):
    global _spawned
    _spawned = time.time()


@events.test_start.add_listener
def _start(environment, **kwargs):
    global _started
    _started = time.time()


class Role(FastHttpUser):
    abstract = True
    username = ""
    wait_time = between(LOW, HIGH)

    def on_start(self):
        page = self.client.get("/login/", name="login")
        token = CSRF.search(page.text or "")
        if not token:
            raise StopUser()
        with self.client.post("/login/", data={"username": self.username, "password": PLAN["password"],
                                               "csrfmiddlewaretoken": token.group(1)},
                              headers={"Referer": self.host + "/login/"}, name="login", allow_redirects=False,
                              catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login answered {r.status_code}")
                raise StopUser()

    def page(self, path: str, name: str) -> None:
        with self.client.get(quote(path, safe="/?=&"), name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")

    def gap_list(self, village: str) -> None:
        ind = random.choice(PLAN["indicators"])
        self.page(f"/unit/{village}/indicators/{ind}/gaps/?period={PLAN['period']}", "gap list (village)")


class Supervisor(Role):
    username = "supervisor"

    @task(4)
    def county_dashboard(self):
        self.page(f"/unit/{PLAN['county']}/indicators/", "county dashboard")

    @task(3)
    def township(self):
        self.page(f"/unit/{random.choice(PLAN['townships'])}/indicators/", "township drill-down")

    @task(2)
    def indicator(self):
        unit = random.choice([PLAN["county"], *PLAN["townships"]])
        self.page(f"/unit/{unit}/indicators/{random.choice(PLAN['indicators'])}/", "indicator page")

    @task(2)
    def gaps(self):
        self.gap_list(random.choice(PLAN["villages"]))

    @task(2)
    def findings(self):
        unit = random.choice([PLAN["county"], *PLAN["townships"]])
        self.page(f"/unit/{unit}/findings/", "findings list")

    @task(1)
    def duplicates(self):
        self.page(f"/unit/{PLAN['county']}/duplicates/", "duplicate queue")

    @task(1)
    def search(self):
        self.page(f"/residents/?q={random.choice(PLAN['county_words'])}", "resident search")

    @task(1)
    def record(self):
        self.page(f"/resident/{random.choice(PLAN['county_records'])}/", "resident record")


class VillageDoctor(Role):
    username = "village_doctor"

    @task(5)
    def search(self):
        self.page(f"/residents/?q={random.choice(PLAN['village_words'])}", "resident search")

    @task(5)
    def record(self):
        self.page(f"/resident/{random.choice(PLAN['village_records'])}/", "resident record")

    @task(3)
    def worklist(self):
        if PLAN["worklist"]:
            self.page(PLAN["worklist"], "worklist")

    @task(2)
    def gaps(self):
        self.gap_list(PLAN["village"])

    @task(2)
    def follow_up_save(self):
        """A controlled hypertension visit today for one of the village's patients: the form, then the save."""
        if not PLAN.get("follow_up_records"):
            return
        record_no = random.choice(PLAN["follow_up_records"])
        path = f"/resident/{record_no}/follow-up/hypertension/"
        with self.client.get(path, name="follow-up form", catch_response=True) as r:
            token = CSRF.search(r.text or "") if r.status_code == 200 else None
            if not token:
                r.failure(f"HTTP {r.status_code}" if r.status_code != 200 else "no CSRF token in the form")
                return
        marker = f"bench-{RUN}-{uuid.uuid4().hex}"
        sbp, dbp = random.randint(110, 138), random.randint(65, 88)
        values = {"csrfmiddlewaretoken": token.group(1), "service_date": PLAN["today"], "mode": "1",
                  "sbp": str(sbp), "dbp": str(dbp), "guidance": marker}
        with self.client.post(path, data=values, name="follow-up save", allow_redirects=False,
                              headers={"Referer": self.host + path}, catch_response=True) as r:
            if r.status_code == 302 and f"/resident/{record_no}/" in (r.headers.get("Location") or ""):
                _saved.append({"marker": marker, "record_no": record_no, "sbp": sbp, "dbp": dbp})
            else:
                r.failure(f"HTTP {r.status_code}")

    @task(1)
    def findings(self):
        self.page(f"/unit/{PLAN['village']}/findings/", "findings list")
