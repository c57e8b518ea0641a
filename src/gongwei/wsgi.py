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
