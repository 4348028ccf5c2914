"""Zoho CRM connector: its entry point (the registry names `records.connectors.zoho:ZohoConnector`)."""

from records.connectors.zoho_reads import GET_IDS_MAX, ZohoConnector

__all__ = ["GET_IDS_MAX", "ZohoConnector"]
