"""Demo credentials for both emulators and the deterministic Vault demo data.

The Zoho demo data lives in sandbox/zoho_demo.py.
"""

from __future__ import annotations

from typing import Any

VAULT_USERNAME = "demo@sandbox.veevavault.com"
VAULT_PASSWORD = "demo-password"
VAULT_API_VERSION = "v26.3"  # the newest the sandbox serves; profiles default to it
VAULT_USER_ID = 61603  # the user the demo profiles log in as (the API user)
VAULT_ID = 1776
# The user who loaded the demo data: another person than the API user, so "created by the API
# user" tells the app's own copies from the records that were there before.
VAULT_DATA_USER_ID = 61590
VAULT_DATA_USER_NAME = "data.migration@sandbox.veevavault.com"
# A sales rep who manages some demo products (product__v.product_manager__c, a user reference):
# the user the target vault lacks (sandbox/target_org.py).
VAULT_REP_USER_ID = 61622
VAULT_REP_EMAIL = "jordan.reyes@sandbox.veevavault.com"
# The main vault's users: {id: (user name, e-mail, first name, last name)}.
VAULT_USERS = {
    VAULT_USER_ID: (VAULT_USERNAME, VAULT_USERNAME, "Demo", "User"),
    VAULT_DATA_USER_ID: (VAULT_DATA_USER_NAME, VAULT_DATA_USER_NAME, "Data", "Migration"),
    VAULT_REP_USER_ID: (VAULT_REP_EMAIL, VAULT_REP_EMAIL, "Jordan", "Reyes"),
}

ZOHO_CLIENT_ID = "1000.SANDBOXCLIENTID"
ZOHO_CLIENT_SECRET = "sandbox-client-secret"
ZOHO_REFRESH_TOKEN = "1000.sandbox.refresh.token"

DEMO_TIMESTAMP = "2024-01-15T09:30:00.000Z"


def profile_values(system: str, url: str) -> dict[str, str]:
    """A connection profile's fields for the emulator of `system` served at `url` (Zoho's accounts
    server is the same one): what runapp's demo profiles, the test fixtures and the bench all use."""
    if system == "vault":
        return dict(
            system="vault",
            base_url=url,
            accounts_url="",
            api_version=VAULT_API_VERSION,
            username=VAULT_USERNAME,
            secret=VAULT_PASSWORD,
            refresh_token="",
        )
    return dict(
        system="zoho",
        base_url=url,
        accounts_url=url,
        api_version="",
        username=ZOHO_CLIENT_ID,
        secret=ZOHO_CLIENT_SECRET,
        refresh_token=ZOHO_REFRESH_TOKEN,
    )


COUNTRIES = [
    ("United States", "USA"),
    ("Germany", "DEU"),
    ("France", "FRA"),
    ("Japan", "JPN"),
    ("Brazil", "BRA"),
]
# (name, formulations, packagings per formulation)
SMALL_PRODUCTS = [
    ("Cardiostat", 5, 6),
    ("Neurolax", 5, 6),
    ("Dermacalm", 4, 7),
    ("Pulmoflow", 5, 6),
    ("Gastrozen", 5, 6),
    ("Osteofirm", 4, 7),
    ("Immunova", 5, 6),
    ("Hepaguard", 5, 6),
]
LARGE_PRODUCT = ("Large Product", 40, 49)  # 40 + 1,960 = 2,000 related records
MEGA_PRODUCT = ("Mega Product", 101, 100)  # 101 + 10,100 = 10,201 related records (> 10,000)
# A small hierarchy whose formulations reference each other through `based_on__c`:
# {formulation index within the product: the index it is based on}. Formulation 1 is based on its
# sibling 0, formulation 2 on itself, 3 and 4 on each other (a cycle); 0 on nothing. Listed after
# Mega Product so the ids of the records before it stay the same.
LINKED_PRODUCT = ("Linked Product", 5, 2)
LINKED_BASED_ON = {1: 0, 2: 2, 3: 4, 4: 3}
GIANT_PRODUCT = "Giant Product"  # only when asked: VaultSettings.giant_related


def giant_product(related: int) -> tuple[str, int, int]:
    """Giant Product for `related` records (a multiple of 100): formulations of 99 packagings each."""
    return (GIANT_PRODUCT, max(1, related // 100), 99)


DOSAGE_FORMS = ("tablet__c", "capsule__c", "syrup__c")
REP_PRODUCTS = ("Pulmoflow", "Osteofirm")  # managed by the rep; the others by the data user
# The demo's personal data: product_contact__c rows, all under one product that no test counts the
# deep copy of (its country, the United States, is in the target vault too).
# (name, e-mail, phone, street, city, birth date, role)
CONTACT_PRODUCT = "Gastrozen"
CONTACTS = [
    (
        "Maria Lopez",
        "maria.lopez@distrimed.example",
        "+1 415 555 0134",
        "12 Harbor Way",
        "San Francisco",
        "1979-04-12",
        "Distributor",
    ),
    (
        "Ken Watanabe",
        "ken.watanabe@pv-safety.example",
        "+1 212 555 0188",
        "88 Fulton Street",
        "New York",
        "1985-11-03",
        "Safety officer",
    ),
    (
        "Anna Schmidt",
        "anna.schmidt@clinic.example",
        "+1 617 555 0102",
        "4 Beacon Street",
        "Boston",
        "1990-07-25",
        "Investigator",
    ),
]


def vault_demo_records(*, giant: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Return {object: [record, ...]} without ids; the state assigns ids in this order.

    Children point at their parent by list index under the key "_parent" (resolved by the state),
    and a formulation at the one it is based on under "_based_on" (set once both exist). `giant`:
    also Giant Product with that many related records, last.
    """
    countries = [{"name__v": name, "code__v": code} for name, code in COUNTRIES]
    products: list[dict[str, Any]] = []
    formulations: list[dict[str, Any]] = []
    packagings: list[dict[str, Any]] = []
    shapes = SMALL_PRODUCTS + [LARGE_PRODUCT, MEGA_PRODUCT, LINKED_PRODUCT] + ([giant_product(giant)] if giant else [])
    for p_index, (name, n_form, n_pack) in enumerate(shapes):
        n = p_index + 1
        products.append(
            {
                "name__v": name,
                "external_id__v": f"EXT-{n:04d}",
                "status__v": ["active__v" if n % 4 else "inactive__v"],
                "description__c": f"{name} demo product",
                "launch_date__c": f"20{18 + n % 6}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "price__c": round(10 + n * 2.5, 2),
                "internal_code__c": f"IC-{n:04d}",
                "country__c": ("_country", n % len(COUNTRIES)),
                "regulatory_status__c": "approved",
                "product_manager__c": VAULT_REP_USER_ID if name in REP_PRODUCTS else VAULT_DATA_USER_ID,
                "copy_key__c": None,
            }
        )
        first_formulation = len(formulations)
        for f in range(n_form):
            based_on = LINKED_BASED_ON.get(f) if name == LINKED_PRODUCT[0] else None
            formulations.append(
                {
                    "_parent": ("product__c", p_index),
                    "dosage_form__c": [DOSAGE_FORMS[f % 3]],
                    "strength__c": f"{(f + 1) * 5} mg",
                    "copy_key__c": None,
                    **({"_based_on": first_formulation + based_on} if based_on is not None else {}),
                }
            )
            f_index = len(formulations) - 1
            for k in range(n_pack):
                packagings.append(
                    {
                        "_parent": ("formulation__c", f_index),
                        "pack_size__c": (k % 10 + 1) * 10,
                        "gtin__c": f"{len(packagings) + 1:014d}",
                        "copy_key__c": None,
                    }
                )
    return {
        "country__v": countries,
        "product__v": products,
        "formulation__c": formulations,
        "packaging__c": packagings,
        "product_contact__c": _contacts(products),
    }


def _contacts(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    index = next(i for i, p in enumerate(products) if p["name__v"] == CONTACT_PRODUCT)
    keys = ("name__v", "email__c", "phone__c", "street__c", "city__c", "birth_date__c", "role__c")
    return [
        {"_parent": ("product__c", index), **dict(zip(keys, row, strict=True)), "copy_key__c": None} for row in CONTACTS
    ]
