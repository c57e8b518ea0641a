"""The WSGI process (gongwei.wsgi): the application loaded before the first request, and what it loaded frozen
out of the garbage collector's full collections (ADR 045)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# a fresh interpreter on its own SQLite file: the server process, not the database under test (so it runs once)
PROBE = r"""
import gc, json
import gongwei.wsgi
# gc.get_objects(): what a full collection walks (the frozen objects are not among them)
print(json.dumps({"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects())}))
"""


def test_the_loaded_application_is_frozen_out_of_full_collections(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gongwei.settings", GONGWEI_DATA_DIR=str(tmp_path / "data"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", GONGWEI_DEBUG="0",
               GONGWEI_SECRET_KEY="wsgi-test-secret-key-0123456789-abcdefghijklmnop")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True,
                         timeout=120)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    # the views, the application layer, the engine and Django: far more than a bare interpreter's few thousand
    assert got["frozen"] > 50_000
    # a full collection no longer walks them: what it walks is what was made after the freeze
    assert got["walked"] * 20 < got["frozen"]
