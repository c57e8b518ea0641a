"""The demo marker: a database that ``gongwei demo`` built is marked, so demo-only conveniences (its published
logins, the development secret key) are allowed there and nowhere else."""

from __future__ import annotations

import getpass

from gongwei.records import models as m

DEMO_MARK_KIND = "demo"


def mark_demo_database() -> None:
    """Record that gongwei demo built this (empty) database."""
    m.LoadBatch.objects.get_or_create(kind=DEMO_MARK_KIND, defaults={
        "source": "gongwei demo：演示数据库标记（演示账号和开发密钥只在有此标记的数据库中使用）",
        "actor": getpass.getuser()})


def is_demo_database() -> bool:
    return m.LoadBatch.objects.filter(kind=DEMO_MARK_KIND).exists()
