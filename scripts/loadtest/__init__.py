"""The parts of scripts/load_job_pages.py: the HTTP client its users share (client), the app it
starts (stack), what each kind of user does (users) and the report (report)."""
