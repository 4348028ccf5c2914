"""Schedules of copy templates: due runs enqueued by RQ's own scheduler, claimed in the database."""
