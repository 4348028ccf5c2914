"""The search page's second way in: "Copy every record matching a filter" (a copy by query). The
form checks the shape of what was typed; the services check the rest (source_query.resolve: the
filter, a match, the limit's maximum) and their message is shown at the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from records.models import CopyJob


class CopyQueryForm(forms.Form):
    where = forms.CharField(max_length=2000, strip=True, label="Filter")
    # No maximum here: above COPY_QUERY_MAX_LIMIT the services refuse it, with their words.
    limit = forms.IntegerField(required=False, min_value=1, label="At most this many records, newest first")
    mode = forms.ChoiceField(
        choices=[
            (CopyJob.Mode.CLONE, "Clone each record"),
            (CopyJob.Mode.DEEP_COPY, "Deep copy: each record and its related records"),
        ],
        initial=CopyJob.Mode.CLONE,
        widget=forms.RadioSelect,
        label="What to copy",
    )
    target = forms.CharField(required=False, label="Copy into")

    def __init__(self, *args: Any, syntax: str = "", example: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["where"].help_text = f"Written as {syntax}" + (f", e.g. {example}" if example else "") + "."
        self.fields["where"].widget.attrs["placeholder"] = example
        self.fields["limit"].initial = int(settings.COPY_QUERY_DEFAULT_LIMIT)
        self.fields["limit"].widget.attrs.update(min=1, max=int(settings.COPY_QUERY_MAX_LIMIT))
        self.fields[
            "limit"
        ].help_text = f"{int(settings.COPY_QUERY_DEFAULT_LIMIT):,} when left empty; at most {int(settings.COPY_QUERY_MAX_LIMIT):,}."
