"""The second vault and the second Zoho org ("target", `Sandbox.start(org="target")`): where copies
between profiles go. Other ids; a field and a picklist value missing; reference data partly
present under the same names with other ids; users with the same e-mails and other ids, one
missing. Everything else is the main org's schema."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox import demo
from sandbox.vault_schema import FieldDef, ObjectDef, PicklistDef

# Vault: record numbers start here, so no id of the main vault exists in the target.
VAULT_COUNTER_START = 500_000
VAULT_ID = 1777  # the main sandbox vault is demo.VAULT_ID
VAULT_COUNTRIES = ("United States", "Germany", "Japan")  # France and Brazil are missing
VAULT_PRODUCTS = ("Cardiostat",)  # without its formulations
VAULT_MISSING_FIELDS = {"product__v": ("launch_date__c",)}
VAULT_MISSING_VALUES = {"dosage_form__c": ("syrup__c",)}  # picklist: values
VAULT_SHORTER = {("product__v", "description__c"): 2_000}
# The same people as the main vault's users (same e-mails), other ids; no rep.
VAULT_USER_ID_OFFSET = 10_000
VAULT_MISSING_USERS = (demo.VAULT_REP_USER_ID,)


def vault_user_id(main_id: int) -> int:
    """The target vault's id of a main-vault user it has."""
    return main_id + VAULT_USER_ID_OFFSET


def vault_users(users: dict[int, tuple[str, str, str, str]]) -> dict[int, tuple[str, str, str, str]]:
    """The target vault's users from the main vault's."""
    return {vault_user_id(i): u for i, u in users.items() if i not in VAULT_MISSING_USERS}


ZOHO_ID_BASE = 6836878000000200000
# The same people as the main org's admin and data user (same e-mails), other ids; no rep.
ZOHO_API_USER = {
    "name": "Sandbox Admin",
    "id": "6836878000000150001",
    "email": "admin@sandbox.zoho.example",
    "profile": "Administrator",
}
ZOHO_DATA_USER = {
    "name": "Data Migration",
    "id": "6836878000000150003",
    "email": "data.migration@sandbox.zoho.example",
    "profile": "Administrator",
}
# The Organization API's answer for the target org: another org in the same data centre.
ZOHO_ORG_IDS = {
    "id": "6836878000000000101",
    "domain_name": "org68368780",
    "zgid": "68368780",
    "primary_zuid": "68368781",
}
ZOHO_ACCOUNTS = ("Acme Corp", "Globex")
ZOHO_MISSING_FIELDS = {"Accounts": ("Regions",)}
ZOHO_MISSING_VALUES = {("Deals", "Stage"): ("Negotiation",)}


def vault_schema(
    schema: dict[str, ObjectDef], picklists: dict[str, PicklistDef]
) -> tuple[dict[str, ObjectDef], dict[str, PicklistDef]]:
    """The target vault's objects and picklists from the main vault's."""
    lists = dict(picklists)
    for name, gone in VAULT_MISSING_VALUES.items():
        p = lists[name]
        lists[name] = replace(p, values=tuple(v for v in p.values if v[0] not in gone))
    out = {}
    for obj in schema.values():
        fields = tuple(
            _vault_field(obj.name, f, lists) for f in obj.fields if f.name not in VAULT_MISSING_FIELDS.get(obj.name, ())
        )
        out[obj.name] = replace(obj, fields=fields, by_name={})
    return out, lists


def _vault_field(obj: str, f: FieldDef, lists: dict[str, PicklistDef]) -> FieldDef:
    if f.picklist_name in VAULT_MISSING_VALUES:
        f = replace(f, picklist=lists[f.picklist_name].active_names)
    shorter = VAULT_SHORTER.get((obj, f.name))
    return replace(f, max_length=shorter) if shorter else f


def vault_records(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The target vault's demo records (in the main loader's shape) from the main vault's."""
    countries = [c for c in data["country__v"] if c["name__v"] in VAULT_COUNTRIES]
    index = {c["name__v"]: i for i, c in enumerate(countries)}
    old_names = [c["name__v"] for c in data["country__v"]]
    products = []
    for row in data["product__v"]:
        if row["name__v"] not in VAULT_PRODUCTS:
            continue
        values = {k: v for k, v in row.items() if k not in VAULT_MISSING_FIELDS["product__v"]}
        kind, old = values["country__c"]
        values["country__c"] = (kind, index[old_names[old]])  # the loader resolves list indexes
        values["product_manager__c"] = vault_user_id(values["product_manager__c"])
        products.append(values)
    return {
        "country__v": countries,
        "product__v": products,
        "formulation__c": [],
        "packaging__c": [],
        "product_contact__c": [],
    }


def zoho_modules(modules: dict[str, Any]) -> dict[str, Any]:
    """The target org's modules (changed in place: build_modules makes fresh ones)."""
    for name, gone in ZOHO_MISSING_FIELDS.items():
        mod = modules[name]
        mod.fields = [f for f in mod.fields if f["api_name"] not in gone]
        mod.by_name = {f["api_name"]: f for f in mod.fields}
    for (name, field_name), values in ZOHO_MISSING_VALUES.items():
        f = modules[name].by_name[field_name]
        f["pick_list_values"] = [v for v in f["pick_list_values"] if v["actual_value"] not in values]
    return modules
