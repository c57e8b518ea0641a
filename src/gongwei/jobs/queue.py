"""The queue's SQLite storage, opened on first use.

Huey's own SqliteStorage creates its file when Django loads the app; a ``gongwei`` command run outside the
project folder would then leave a stray ``data/queue.sqlite3`` behind (issue 9: no stray empty database). This
storage creates the folder, the file and its tables the first time a job is queued or a worker starts.
"""

from __future__ import annotations

from pathlib import Path

import huey
from huey.storage import SqliteStorage


class LazySqliteStorage(SqliteStorage):
    def __init__(self, *args, **kwargs):
        kwargs["create_tables"] = False
        super().__init__(*args, **kwargs)
        self._schema_ready = False

    def _create_connection(self):
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        conn = super()._create_connection()
        if not self._schema_ready:
            # runs under the storage's lock (inside ``db()``): the DDL is idempotent and needs no second lock
            cursor = conn.cursor()
            for sql in self.ddl:
                cursor.execute(sql)
            conn.commit()
            cursor.close()
            self._schema_ready = True
        return conn


class SqliteHuey(huey.SqliteHuey):
    storage_class = LazySqliteStorage
