"""What the Huey worker runs: a queued job, and the nightly refresh (the time is ``NIGHTLY_REFRESH_AT``).

Thin on purpose: the work and its rules live in :mod:`gongwei.service.jobs`.
"""

from __future__ import annotations

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task


def nightly_schedule():
    """A crontab at ``settings.NIGHTLY_REFRESH_AT`` (HH:MM, local time: the queue runs with utc=False)."""
    text = str(settings.NIGHTLY_REFRESH_AT).strip()
    try:
        hour, minute = (int(x) for x in text.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"GONGWEI_NIGHTLY_AT“{text}”无效：应为 24 小时制时间 HH:MM，例如 02:00") from None
    return crontab(minute=str(minute), hour=str(hour))


@db_task()
def run_job(job_id: int) -> None:
    from gongwei.service import jobs

    jobs.execute(job_id)


@db_periodic_task(nightly_schedule())
def nightly_refresh() -> None:
    from gongwei.service import jobs

    jobs.nightly()


@HUEY.on_startup("reap-interrupted-jobs")
def reap_interrupted_jobs() -> None:
    """When a worker starts: jobs left running by a worker that stopped are marked failed (ADR 018)."""
    from django.db import close_old_connections

    from gongwei.service import jobs

    try:
        jobs.reap_interrupted()
    finally:
        close_old_connections()
