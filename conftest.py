"""Environment for the test run, set before Django reads its settings."""

import os
import tempfile

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOW_LOOPBACK_CONNECTIONS", "true")
os.environ.setdefault("VAULT_JOB_POLL_SECONDS", "0.3")
os.environ.setdefault("COPIER_VAR_DIR", tempfile.mkdtemp(prefix="copier-test-var-"))
