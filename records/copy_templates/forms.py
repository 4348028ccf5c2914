"""The templates' small forms: save (a name and a description), run, share and edit."""

from __future__ import annotations

from django import forms

from records.models import CopyJob


class SaveTemplateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Template name")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RunTemplateForm(forms.Form):
    records = forms.CharField(
        required=False,
        label="Records to copy",
        help_text="One record id or exact name per line; leave empty to use the template's saved filter.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ShareTemplateForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User name")
    group = forms.CharField(required=False, max_length=150, label="or group")

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        if bool(data.get("user")) == bool(data.get("group")):
            raise forms.ValidationError("Name one user or one group.")
        return data


class EditTemplateForm(forms.Form):
    """Name, description and the choices without the wizard's widgets: saving makes a new version."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(choices=[(m.value, m.label) for m in (CopyJob.Mode.CLONE, CopyJob.Mode.DEEP_COPY)])
    exclude = forms.CharField(
        required=False, label="Leave out", help_text="Related objects to leave out, separated by commas."
    )
    source_filter = forms.CharField(
        required=False,
        label="Saved filter",
        help_text="Vault: a VQL WHERE; Zoho: criteria. Used when no records are named.",
    )
    source_limit = forms.IntegerField(required=False, min_value=1, label="At most")
