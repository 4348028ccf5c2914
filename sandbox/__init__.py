"""Local emulators of the Veeva Vault and Zoho CRM APIs; see docs/architecture.md ("Sandbox")."""

from sandbox.server import Faults, LogEntry, Sandbox

__all__ = ["Faults", "LogEntry", "Sandbox"]
