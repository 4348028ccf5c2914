"""The copy engine: preview/plan, execution, reconciliation, resume. Entry points in services.py."""
