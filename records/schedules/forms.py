"""The template page's schedule form: a cron expression or every N seconds or minutes, ids or a
filter with a limit, a time zone, on or off. The services check the rest."""

from __future__ import annotations

from typing import Any

from django import forms

UNITS = {"seconds": 1, "minutes": 60}


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        required=False, max_length=100, label="Cron expression", help_text="e.g. 0 6 * * 1-5 (6:00 on weekdays)"
    )
    every = forms.IntegerField(required=False, min_value=1, label="or every")
    unit = forms.ChoiceField(choices=[(u, u) for u in UNITS], initial="minutes", label="Unit")
    ids = forms.CharField(
        required=False,
        label="Record ids",
        help_text="One id per line; or leave empty and give a filter.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source_filter = forms.CharField(required=False, label="or filter", help_text="Vault: a VQL WHERE; Zoho: criteria.")
    source_limit = forms.IntegerField(required=False, min_value=1, label="At most")
    time_zone = forms.CharField(max_length=64, initial="UTC", label="Time zone", help_text="e.g. Europe/Paris")
    enabled = forms.BooleanField(required=False, initial=True, label="On")

    def schedule_values(self) -> dict[str, Any]:
        """The services' keyword arguments of a valid form."""
        data = self.cleaned_data
        every = data.get("every")
        return {
            "cron": (data.get("cron") or "").strip() if not every else "",
            "every_seconds": every * UNITS[data.get("unit") or "minutes"] if every else None,
            "source_ids": [line.strip() for line in (data.get("ids") or "").splitlines() if line.strip()],
            "source_filter": data.get("source_filter") or "",
            "source_limit": data.get("source_limit"),
            "time_zone": data.get("time_zone") or "UTC",
            "enabled": bool(data.get("enabled")),
        }
