"""Veeva Vault connector: its entry point (the registry names `records.connectors.vault:VaultConnector`)."""

from records.connectors.vault_reads import LATEST_API_VERSION, NAMES_CHUNK, POLL_TIMES, PollTimes, VaultConnector

__all__ = ["LATEST_API_VERSION", "NAMES_CHUNK", "POLL_TIMES", "PollTimes", "VaultConnector"]
