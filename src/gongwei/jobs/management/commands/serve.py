"""``gongwei manage serve``: the web server and the background worker, started and stopped together.

The worker (Huey's ``run_huey``, which also runs the nightly refresh) is a child process; Ctrl+C stops the
server and the worker together (the terminal sends the interrupt to both; the worker is interrupted again
here if it is still running, then killed after a grace period). A demonstration server, like ``gongwei demo``:
a production install runs ``gongwei manage run_huey`` under its process manager beside a real web server.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

GRACE_SECONDS = 30  # a running job step gets this long to finish before the worker is killed


class Command(BaseCommand):
    help = "启动网页服务和后台任务进程（一起启动，按 Ctrl+C 一起停止）"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机可访问）")
        parser.add_argument("--port", type=int, default=8000, help="监听端口（默认 8000）")
        parser.add_argument("--workers", type=int, default=settings.HUEY.get("consumer", {}).get("workers", 2),
                            help="后台任务并行数（默认 2）")

    def handle(self, *args, host: str, port: int, workers: int, **options):
        worker = start_worker(workers)
        try:
            time.sleep(1.0)
            if worker.poll() is not None:
                raise CommandError(f"后台任务进程未能启动（退出码 {worker.returncode}），请查看上面的错误信息")
            if host not in settings.ALLOWED_HOSTS:
                settings.ALLOWED_HOSTS.append("*" if host in ("0.0.0.0", "::") else host)
            shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
            self.stdout.write(f"后台任务进程已启动（进程号 {worker.pid}，{workers} 个并行）。\n"
                              f"请用浏览器打开 http://{shown}:{port}/ 。按 Ctrl+C 同时停止网页服务和后台任务。")
            self.stdout.flush()
            # --insecure: static files from the installed packages with DEBUG off (demo only; no CDN)
            call_command("runserver", f"{host}:{port}", insecure_serving=True, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            stop_worker(worker)


def start_worker(workers: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gongwei.cli.main", "manage", "run_huey",
                             "--workers", str(workers), "--worker-type", "thread"])


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)  # Huey's graceful stop: finish the running task, take no new one
        try:
            worker.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
