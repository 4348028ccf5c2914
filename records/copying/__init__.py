"""The copy engine: what was asked (request.py), its preview and plan (preview.py, stored_plans.py),
the job made (job_create.py), run and acted on (job_actions.py), reconciliation, undo."""
