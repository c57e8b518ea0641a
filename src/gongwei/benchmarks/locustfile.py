"""The simulated users of the web benchmark (:mod:`gongwei.benchmarks.web` runs locust on this file).

Two roles, as many users of each: a county **supervisor** (督导员) who reads the county dashboard, drills into
townships and indicators, opens gap lists of villages, the findings list and the duplicate queue, and sometimes
looks a person up; and a **village doctor** (村医) who mostly finds residents and opens their record's home page,
opens the worklist (where the build has one) and sometimes the village's gap lists and findings. Each user logs
in as its role first (the login is reported apart). Think time between pages: ``GONGWEI_BENCH_WAIT`` ("1,4" s).

Every request's own time goes to ``GONGWEI_BENCH_SAMPLES`` (JSON) at the end, so percentiles are exact
(locust rounds its own). Any answer other than 200 — a redirect to the login page included — is an error.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["GONGWEI_BENCH_TARGETS"]).read_text(encoding="utf-8"))
LOW, HIGH = (float(x) for x in os.environ.get("GONGWEI_BENCH_WAIT", "1,4").split(","))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

_ms: dict[str, list[float]] = defaultdict(list)
_requests: dict[str, int] = defaultdict(int)
_errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_started = time.time()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    _requests[name] += 1
    if exception is None:
        _ms[name].append(response_time)
    else:
        _errors[name][str(exception)[:120]] += 1
        _ms[name].append(response_time)  # a slow error is still time a user waited


@events.quitting.add_listener
def _write(environment, **kwargs):
    pages = {n: {"requests": _requests[n], "errors": sum(_errors[n].values()), "error_kinds": dict(_errors[n]),
                 "ms": _ms[n]} for n in _requests}
    Path(os.environ["GONGWEI_BENCH_SAMPLES"]).write_text(
        json.dumps({"pages": pages, "seconds": time.time() - _started}), encoding="utf-8")


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

    @task(1)
    def findings(self):
        self.page(f"/unit/{PLAN['village']}/findings/", "findings list")
