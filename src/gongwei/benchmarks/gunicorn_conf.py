"""gunicorn settings of the web benchmark (:mod:`gongwei.benchmarks.web`).

* Each worker, once it has loaded the application, leaves a file in ``GONGWEI_BENCH_READY_DIR`` so the benchmark
  knows when the server is ready without sending it a request.
* With ``GONGWEI_BENCH_CPU_DIR`` set, each request's path, wall time inside the worker and CPU time of the thread
  that served it (``time.thread_time``: Python and the database driver; not PostgreSQL's own processes and not
  DuckDB's worker threads) are kept and written to that folder when the worker exits. On a shared machine the
  CPU time is the figure that other work moves least.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_samples: list[tuple[float, str, float, float, int]] = []


def post_worker_init(worker) -> None:
    folder = os.environ.get("GONGWEI_BENCH_READY_DIR")
    if folder:
        (Path(folder) / str(worker.pid)).touch()


def pre_request(worker, req) -> None:
    req.bench_started = (time.perf_counter(), time.thread_time())


def post_request(worker, req, environ, resp) -> None:
    started = getattr(req, "bench_started", None)
    if started is None or not os.environ.get("GONGWEI_BENCH_CPU_DIR"):
        return
    wall, cpu = time.perf_counter() - started[0], time.thread_time() - started[1]
    path = req.path + ("?" + req.query if req.query else "")
    with _lock:
        _samples.append((time.time(), path, 1000 * wall, 1000 * cpu, int(getattr(resp, "status_code", 0) or 0)))


def worker_exit(server, worker) -> None:
    folder = os.environ.get("GONGWEI_BENCH_CPU_DIR")
    if folder and _samples:
        with _lock:
            (Path(folder) / f"cpu-{worker.pid}.json").write_text(json.dumps(_samples), encoding="utf-8")
