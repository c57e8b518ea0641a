"""The WSGI application a real web server (gunicorn, uWSGI, mod_wsgi) serves.

The URL configuration — and through it every page, the application layer, the engine, Arrow and DuckDB — is
imported here, when a server process starts, rather than by the first request it serves: at 2 M residents that
import was about 3 s of a cold first page (docs/benchmarks.md §9).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402  (needs the settings above)

get_resolver().url_patterns  # noqa: B018  (the lazy property imports the views)

# issue 10 (ADR 029): what a first dashboard would otherwise pay for, without computing anything — the latest
# snapshot's engine and stored results, and the dashboard's templates compiled (the cached loader keeps them)
from django.template.loader import get_template  # noqa: E402

from gongwei.service.dashboard import warm  # noqa: E402

warm()
for _name in ("web/dashboard/indicators.html", "web/dashboard/bulletin.html"):
    get_template(_name)

# ADR 045: what was loaded above lives as long as the process. Left to the cyclic garbage collector, each full
# collection walked those ~185,000 objects (and every row the process keeps) while holding the GIL, stopping all
# of the worker's threads for about 100 ms, every few dozen requests: the pages' p95 under load. Freezing moves
# them out of every future collection; the garbage of the imports is collected first, so none of it is kept.
import gc  # noqa: E402

gc.collect()
gc.freeze()
