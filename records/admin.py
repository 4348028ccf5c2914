"""The Django admin as an audit tool for staff. Each model's admin lives with the pages of its
model's package; importing them here registers them, where Django's autodiscover looks.

Profiles (records/profiles/admin.py): secrets are never displayed and never edited as plain text.
Jobs, results, plans and audit events (records/web/admin_jobs.py) are read-only; so are the
notifications (records/notify/admin.py) and the schedules with their runs (records/schedules/admin.py),
changed on their template's page.
"""

from __future__ import annotations

from records.accounts import admin_logins  # noqa: F401 - the audited unlock for login lock-outs
from records.copy_templates import admin as template_admin  # noqa: F401 - registers the templates' admin
from records.notify import admin as notify_admin  # noqa: F401 - e-mails and webhook attempts, read-only
from records.ops.rq_dashboard import lock_down_admin_copy
from records.profiles import admin as profile_admin  # noqa: F401 - registers the profiles' admin
from records.schedules import admin as schedule_admin  # noqa: F401 - schedules and their runs, read-only
from records.web import admin_jobs  # noqa: F401 - registers the jobs', results', plans' and audit's admin

lock_down_admin_copy()
