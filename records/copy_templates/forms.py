"""The templates' small forms: save (a name and a description), run, share and edit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from records.copy_templates.notifications import TemplateNotifications, recipients_of
from records.copying.options import CopyOptions
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
    source_filter = forms.CharField(
        required=False,
        label="Saved filter",
        help_text="Vault: a VQL WHERE; Zoho: criteria. Used when no records are named.",
    )
    source_limit = forms.IntegerField(required=False, min_value=1, label="At most")
    # A copy into another profile: the target and what the preview's references table chooses,
    # typed as the CLI's items (options.parse_cross_cli reads them, as it reads the preview's).
    target = forms.ChoiceField(required=False, label="Copy into", choices=[("", "the same profile")])
    match = forms.CharField(
        required=False,
        label="Match keys",
        help_text="OBJECT:FIELD, one a line: the field that finds a referenced record in the target.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    unmatched = forms.CharField(
        required=False,
        label="Unmatched references",
        help_text="[OBJECT:]refuse|blank|fail, one a line (no OBJECT: every object).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    existing = forms.ChoiceField(
        required=False,
        label="Records already in the target",
        choices=[("", "the default (create)"), *((c, c) for c in CopyOptions.EXISTING_CHOICES)],
    )
    map_user = forms.CharField(
        required=False,
        label="Users",
        help_text="SOURCE_EMAIL=TARGET_EMAIL (or =@api, =@refuse), one a line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recipients = forms.CharField(
        required=False,
        label="Also tell",
        help_text="E-mail addresses told when a run of this template ends, besides whoever ran it; one a line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook URL",
        help_text="POSTed a signed JSON event when a run ends; https on a public host. Empty: none.",
    )
    webhook_secret = forms.CharField(
        required=False,
        strip=False,
        label="Webhook secret",
        help_text="Signs each delivery (HMAC-SHA256). Never shown again; leave empty to keep the saved one.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, targets: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        if isinstance(target, forms.ChoiceField):
            target.choices = [("", "the same profile"), *targets]

    def notifications(self) -> TemplateNotifications:
        data = self.cleaned_data
        return TemplateNotifications(
            recipients=recipients_of(data["recipients"]),
            webhook_url=data["webhook_url"].strip(),
            webhook_secret=data["webhook_secret"] or None,
        )
