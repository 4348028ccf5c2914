"""The profile form: validation only; records.profiles.services does the work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from records.lib.words import moment
from records.models import ConnectionProfile
from records.profiles import services as profile_services

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The labels and help of the fields both systems share, in each system's words: profile_form.js
# shows the chosen system's (the page without JavaScript keeps the combined ones).
SYSTEM_WORDS = {
    "username": {("label", "vault"): "User name", ("label", "zoho"): "Client id"},
    "secret": {("label", "vault"): "Password", ("label", "zoho"): "Client secret"},
    "base_url": {
        ("help", "vault"): "e.g. https://yourvault.veevavault.com",
        ("help", "zoho"): "The API domain, e.g. https://www.zohoapis.eu",
    },
}


# Django's form classes take no type arguments at runtime (that needs django-stubs-ext, a dev tool).
class ProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    """Add or edit a profile. Secrets are write-only: blank means "keep the one that is set"."""

    secret = forms.CharField(
        label="Password / client secret",
        required=False,
        strip=False,
        # Typed again into a form sent back with an error (never the stored one: secret is no
        # model field of the form, so an edit form starts blank); the pages are no-store.
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"}),
    )
    refresh_token = forms.CharField(
        label="Refresh token (Zoho)",
        required=False,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
    )

    # Declared here, so Meta.help_texts does not reach them (their help was never shown): given here.
    base_url = forms.URLField(
        label="Base URL",
        max_length=300,
        assume_scheme="https",
        help_text="Vault: https://yourvault.veevavault.com · Zoho: the API domain, e.g. https://www.zohoapis.eu",
    )
    accounts_url = forms.URLField(
        label="Accounts URL",
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text="Zoho only: the accounts server, e.g. https://accounts.zoho.eu",
    )

    class Meta:
        model = ConnectionProfile
        fields = ["name", "system", "base_url", "accounts_url", "api_version", "username", "concurrency"]
        help_texts = {
            "concurrency": "Zoho: the most calls at once across all workers.",
        }

    def __init__(self, *args: Any, owner: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profile = self.instance
        # Names are unique per owner (the model's constraint): checked here, against the owner's own.
        self.owner = profile.owner if profile.pk else owner
        for name, set_at in (("secret", "secret_set_at"), ("refresh_token", "refresh_token_set_at")):
            when = getattr(profile, set_at, None) if profile.pk else None
            if profile.pk and getattr(profile, name):
                stamp = moment(when) if when else "earlier"
                self.fields[name].help_text = f"Set on {stamp}. Leave blank to keep it."
            else:
                self.fields[name].help_text = "Not set." if profile.pk else ""
        self._api_version_field()
        for name, words in SYSTEM_WORDS.items():
            self.fields[name].widget.attrs.update(
                {f"data-{kind}-{system}": text for (kind, system), text in words.items()}
            )

    def _api_version_field(self) -> None:
        """Vault's API version: required (marked so whatever system the form was sent with: it is
        shown for Vault only), empty set to the newest the app supports (profile_form.js fills it
        too when a box left empty is switched to Vault). Zoho's version is the connector's: a Zoho
        form needn't send it (it is hidden)."""
        latest = profile_services.latest_vault_api_version()
        field = self.fields["api_version"]
        field.label = "API version"
        field.help_text = f"Vault only. The newest this app supports is {latest}."
        field.required = self.data.get("system") != "zoho"
        field.widget.attrs["data-default"] = latest
        field.marked_required = True  # type: ignore[attr-defined]  # read by _field.html
        if not self.is_bound and not self.instance.api_version:
            self.initial["api_version"] = latest

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if self.owner is not None:
            mine = ConnectionProfile.objects.filter(owner=self.owner, name__iexact=name).exclude(pk=self.instance.pk)
            if mine.exists():
                raise forms.ValidationError("You already have a profile with this name; choose another.")
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        system = data.get("system") or self.instance.system
        version = (data.get("api_version") or "").strip()
        message = profile_services.api_version_error(system=system, api_version=version)
        if message:
            self.add_error("api_version", message)
        data["api_version"] = version if system == "vault" else ""  # Zoho's version is the connector's
        self._clean_urls(system, data)
        # Secrets follow their URL: a profile pointed elsewhere needs them typed again.
        moved = profile_services.profile_moves(
            profile=self.instance,
            system=system,
            base_url=data.get("base_url") or "",
            accounts_url=data.get("accounts_url") or "",
        )
        kept = bool(self.instance.pk) and not moved
        again = " The address changed: enter it again." if moved else ""
        if not (data.get("secret") or (kept and self.instance.secret)):
            self.add_error("secret", "Enter the password (Vault) or client secret (Zoho)." + again)
        if system == "zoho":
            if not (data.get("refresh_token") or (kept and self.instance.refresh_token)):
                self.add_error("refresh_token", "Zoho needs a refresh token." + again)
            if not data.get("accounts_url"):
                self.add_error("accounts_url", "Zoho needs the accounts server URL.")
        return data

    def _clean_urls(self, system: str, data: dict[str, Any]) -> None:
        """The service's URL rules (https only, the system's hosts), each error shown at its field."""
        if not data.get("base_url") or system not in ("vault", "zoho"):
            return
        try:
            profile_services.clean_profile_urls(
                system=system, base_url=data["base_url"], accounts_url=data.get("accounts_url") or ""
            )
        except forms.ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, messages)

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values to hand to profile_create / profile_update; blank secrets left out."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        for name in ("secret", "refresh_token"):
            if self.cleaned_data.get(name):
                data[name] = self.cleaned_data[name]
        return data


class LineageDefaultsForm(forms.Form):
    """The profile's default lineage fields as lines of text; records.profiles.lineage_defaults
    checks them against the profile's metadata."""

    lineage_lines = forms.CharField(
        label="Default lineage fields",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=(
            "One object a line: the object, a colon, and the text field that gets the lineage stamp "
            "(which job and record each copy came from), e.g. “Products: Description”. "
            "Names or labels both work. Leave empty for none."
        ),
    )
