"""What a web process would otherwise do on its first requests, done once before it serves: the
views and the systems' connectors imported, the URL resolver filled, every template of the site and of the form widgets
compiled into the cached loaders, the translation catalogues read. gunicorn runs it in its master
before forking (copier_site/gunicorn.conf.py, preload_app), so every worker starts with it done
and shares the memory.

Measured with scripts/load_job_pages.py (docs/performance.md): a cold worker's first job page cost
380-485 ms of CPU against ~40 ms warm, and 40 watchers opening a new job's page in one second
queued behind it. Nothing here touches the database (a connection opened before the fork would be
shared by every worker; the gunicorn hook closes any all the same)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.conf import settings
from django.forms.renderers import get_default_renderer
from django.template import Engine, engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver
from django.utils import translation

from records import connectors

log = logging.getLogger(__name__)


def warm() -> list[str]:
    """Warm this process; the names of the templates compiled (for the log and the tests)."""
    get_resolver().reverse_dict  # noqa: B018 - fills the resolver: every urls module and view imported, every pattern compiled
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("Log in")  # the catalogues of every installed app, read once
    _import_connectors()
    return [*_compile_site_templates(), *_compile_form_templates()]


def _import_connectors() -> None:
    """Each system's connector, imported lazily on first use (the results table asks one for its
    words: ~60 ms on the first job page). A module that fails to import is left to fail where it is
    used, as it would without the warm-up: one system's module can't stop the web."""
    try:
        for system in connectors.REGISTRY:
            connectors.connector_class(system)
        connectors.user_objects()
    except Exception:
        log.exception("A connector did not import: it is tried again where it is used")


def _compile_site_templates() -> Iterator[str]:
    """Every template under the site's template folders (templates/): the pages, their parts and
    what they include. Not the installed apps' own (the admin's are many and off the busy paths)."""
    for backend in engines.all():
        if isinstance(backend, DjangoTemplates):
            yield from _compile(backend.engine, backend.engine.dirs)


def _compile_form_templates() -> Iterator[str]:
    """The form renderer has an engine of its own (the widgets' templates, django/forms/...):
    a form's first render in a process compiles them there."""
    engine = getattr(get_default_renderer(), "engine", None)
    if isinstance(engine, DjangoTemplates):
        yield from _compile(engine.engine, engine.engine.dirs)


def _compile(engine: Engine, dirs: Sequence[str | Path]) -> Iterator[str]:
    for folder in map(Path, dirs):
        for path in sorted(folder.rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            engine.get_template(name)  # through the cached loader: kept for every later render
            yield name
