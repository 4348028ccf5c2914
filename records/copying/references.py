"""What a reference (lookup) field's value holds: Zoho's lookups are {"id": ..., "name": ...},
Vault's references bare ids. The tree, its waves, reconcile, re-pointing and undo all read them."""

from __future__ import annotations


def ref_id(value: object) -> str:
    """The record id a lookup value holds ({"id": ...} or a bare id), or ""."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    return ""
