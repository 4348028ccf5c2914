"""How the web runs in production: `gunicorn -c copier_site/gunicorn.conf.py` (flags on the command
line override what is here, e.g. --bind, --workers). scripts/load_job_pages.py starts gunicorn with
this file too, so what it measures is what production runs.

The app is loaded once in the master (preload_app) and warmed there before the workers are forked
(records/web/warmup.py): views imported, URL resolver filled, templates compiled. Each worker starts
with all of that done, in memory shared with the master, instead of spending its first requests on
it (measured: a cold worker's first job page 380-485 ms of CPU, warm ~40 ms); what it holds is then
frozen out of the garbage collector (gc.freeze). The price: code is
read at start only, so a release restarts gunicorn (a HUP reloads the workers from the master's copy
of the old code)."""

import gc
import os

wsgi_app = "copier_site.wsgi:application"
bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")  # noqa: S104 - behind the TLS proxy (README)
preload_app = True
# Threads, so a worker keeps serving while a request waits on the database or one remote call, and
# keeps each browser's connection between its polls (sync workers close it). gunicorn itself reads
# WEB_CONCURRENCY for the number of workers; 2 per core is a fair start (the GIL: threads do not
# add CPU, workers do, at the memory of a process each).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
threads = int(os.environ.get("WEB_THREADS", 4))
keepalive = 5
# No request reads a copy's tree (README, "Deploying"): a request waits on one remote call at most.
timeout = 30


def when_ready(server):
    """In the master, the app loaded (preload_app) and no worker forked yet."""
    from django.db import connections

    from records.web.warmup import warm

    names = warm()
    connections.close_all()  # none should be open; one carried across the fork would be shared
    # What the master holds now lives as long as the workers: out of the garbage collector's way.
    # Else each worker's full collections walk it all (measured: ~70 ms of CPU, the GIL held,
    # every thread of the worker stalled) and, touching every object, copy the shared pages.
    gc.collect()
    gc.freeze()
    server.log.info(
        "Warmed before the fork: %d templates compiled, %d objects frozen", len(names), gc.get_freeze_count()
    )
