"""The site's settings with ViewTimings first (the load test's --log-views)."""

from copier_site.settings import *  # noqa: F403
from copier_site.settings import MIDDLEWARE

MIDDLEWARE = ["scripts.loadtest.timing.ViewTimings", *MIDDLEWARE]
