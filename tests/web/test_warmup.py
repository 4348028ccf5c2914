"""The web process warmed before it serves (records/web/warmup.py, run by copier_site/gunicorn.conf.py
in gunicorn's master before the fork): after it, the job page, its live part and rows, the jobs
list and the preview render without compiling a template; gunicorn started with the production
configuration warms before it forks its workers."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.forms.renderers import get_default_renderer
from django.template import engines
from django.template.loaders.cached import Loader
from django.urls import reverse

from records.models import CopyJob
from records.web.warmup import warm
from tests.web.test_preview import draft  # noqa: F401 - the preview's fixture

ROOT = Path(__file__).resolve().parent.parent.parent


def _cached_loaders() -> list[Loader]:
    site = engines["django"].engine.template_loaders
    forms = get_default_renderer().engine.engine.template_loaders
    loaders = [*site, *forms]
    assert all(isinstance(loader, Loader) for loader in loaders), "the cached loader is what keeps a compiled template"
    return loaders


def _start_cold():
    """As a fresh process starts: no template compiled in either engine."""
    for loader in _cached_loaders():
        loader.reset()


def _compiled() -> set[str]:
    return {key for loader in _cached_loaders() for key in loader.get_template_cache}


def _job_pages(client, job) -> None:
    for name in ("job_detail", "job_live", "job_rows"):
        assert client.get(reverse(name, args=[job.code])).status_code == 200
    assert client.get(reverse("job_list")).status_code == 200


@pytest.mark.django_db
def test_a_cold_process_compiles_templates_on_its_first_job_page(owner_client, make_job):
    """The control: without the warm-up the check below would see the compiles."""
    job = make_job(results=30, status=CopyJob.Status.RUNNING)
    _start_cold()
    _job_pages(owner_client, job)
    assert "records/job_detail.html" in _compiled()
    assert "django/forms/widgets/select.html" in _compiled(), "the jobs list's filter form"


@pytest.mark.django_db
def test_after_the_warm_up_the_job_pages_compile_no_template(owner_client, make_job):
    job = make_job(results=30, status=CopyJob.Status.RUNNING)
    _start_cold()
    warm()
    warmed = _compiled()
    _job_pages(owner_client, job)
    assert _compiled() - warmed == set(), "compiled on a request: not warmed"
    assert {"records/job_detail.html", "records/_job_live.html", "base.html"} <= warmed


def test_after_the_warm_up_the_preview_compiles_no_template(draft):  # noqa: F811
    client, _sandbox = draft
    _start_cold()
    warm()
    warmed = _compiled()
    assert client.get(reverse("copy_preview", args=["d1"])).status_code == 200
    assert _compiled() - warmed == set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.nodb
def test_gunicorn_with_the_production_config_warms_in_the_master_before_it_forks(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "true",
        "COPIER_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "copier_site.settings",
    }
    env.pop("DATABASE_URL", None)
    log = tmp_path / "web.log"
    cmd = [sys.executable, "-m", "gunicorn", "-c", "copier_site/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "2"]
    with open(log, "wb") as out:
        web = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, web)
        page = requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=20)
        assert page.status_code == 200
    finally:
        web.terminate()
        web.wait(timeout=20)
    text = log.read_text()
    warmed = re.search(r"Warmed before the fork: (\d+) templates compiled, (\d+) objects frozen", text)
    assert warmed and int(warmed.group(1)) > 50, text[-2000:]
    assert int(warmed.group(2)) > 10_000, "what the master holds kept out of the workers' collections"
    assert text.index(warmed.group(0)) < text.index("Booting worker"), "warmed in the master, before any fork"


def _wait_for(port: int, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert web.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not listen")


def test_a_fresh_process_after_the_warm_up_holds_every_systems_connector(tmp_path):
    """The results table asks the job's connector for its words: imported lazily, ~60 ms on a
    worker's first job page had the warm-up not imported it."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "COPIER_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "copier_site.settings",
    }
    code = (
        "import sys, django; django.setup()\n"
        "from records.connectors import REGISTRY\n"
        "modules = [path.partition(':')[0] for path in REGISTRY.values()]\n"
        "cold = [m for m in modules if m not in sys.modules]\n"
        "from records.web.warmup import warm; warm()\n"
        "print(len(cold), all(m in sys.modules for m in modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    cold, warmed = out.stdout.split()[-2:]
    assert int(cold) > 0, "a connector not imported at start: else this test shows nothing"
    assert warmed == "True", out.stderr[-2000:]
