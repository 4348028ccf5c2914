"""Settings for the test run: development defaults set before the real settings are read.

pytest-django imports settings before any conftest runs, so the defaults live here.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOW_LOOPBACK_CONNECTIONS", "true")
os.environ.setdefault("VAULT_JOB_POLL_SECONDS", "0.3")
os.environ.setdefault("COPIER_VAR_DIR", tempfile.mkdtemp(prefix="copier-test-var-"))

from copier_site.settings import *  # noqa: E402,F403
