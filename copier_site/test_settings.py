"""Settings for the test run: development defaults set before the real settings are read.

pytest-django imports settings before any conftest runs, so the defaults live here.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOW_LOOPBACK_CONNECTIONS", "true")
os.environ.setdefault("VAULT_JOB_POLL_SECONDS", "0.3")
os.environ.setdefault("COPIER_VAR_DIR", tempfile.mkdtemp(prefix="copier-test-var-"))

# Under pytest-xdist every worker gets its own var dir (SQLite test database, credential key):
# the controller process set COPIER_VAR_DIR before it started the workers, so they all inherited
# it. A worker's own subprocesses (rqworker, ...) inherit the worker's dir and keep it.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker and os.environ.get("COPIER_TEST_VAR_WORKER") != _xdist_worker:
    os.environ["COPIER_VAR_DIR"] = tempfile.mkdtemp(prefix=f"copier-test-var-{_xdist_worker}-")
    os.environ["COPIER_TEST_VAR_WORKER"] = _xdist_worker

from copier_site.settings import *  # noqa: E402,F403

# Hashing a password with the production hasher takes about a second of CPU on a small machine,
# and most tests create users; the tests check who may log in, not the hash's strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# How long a deep copy whose start answer was lost waits for its copy to appear
# (copying/vault_deep_copy.py). The sandbox runs a queued Vault job within a poll interval or two, so seconds are enough here; 120 s
# (the default) would make every seeded fault on a start cost two minutes of a test's time.
VAULT_LOST_START_WAIT_SECONDS = 5

# The polled pages' user read every time: most tests count a view's own queries, the same on its
# first request and its next (tests/web/test_polled_user.py turns the keeping on).
POLLED_USER_SECONDS = 0
