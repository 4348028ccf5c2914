"""The Vault emulator's object schema (api-notes vault.md §2)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    type: str  # ID, String, LongText, Picklist, Date, DateTime, Number, Object, Attachment
    required: bool = False
    editable: bool = True
    unique: bool = False
    no_copy: bool = False
    system_managed_name: bool = False
    picklist: tuple[str, ...] = ()  # the ACTIVE value names a create/update may set (Picklist fields)
    picklist_name: str | None = None  # the picklist behind a Picklist field (metadata key `picklist`)
    multi_value: bool = False  # Picklist fields: several values (metadata key `multi_value`, VAPIL-mapped)
    max_length: int | None = None
    # Object-type fields only.
    object: str | None = None
    relationship_type: str | None = None  # "parent" (parent-child) or "reference"
    relationship_outbound_name: str | None = None
    relationship_inbound_name: str | None = None
    relationship_deletion: str | None = None  # "block" (the only documented value)
    # Sandbox schema flag (api-notes §2.4/§5.1: "hierarchical copy enabled" has no documented
    # metadata key): deep copy follows this relationship from the parent to this object.
    hierarchical_copy: bool = False


@dataclass(frozen=True)
class PicklistDef:
    """A picklist and its values, served by GET /api/{v}/objects/picklists[/{name}].

    Retrieve Picklist Values returns only the ACTIVE values, in the picklist's order, as
    `{name, label}` (https://limited.veevavault.dev/vault-api/api-reference/25.2/picklists/retrieve-picklist-values/).
    """

    name: str
    label: str
    values: tuple[tuple[str, str], ...]  # (value name, label), active, in order
    inactive: tuple[tuple[str, str], ...] = ()  # kept on old records, not offered, not settable

    @property
    def active_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.values)


# The demo picklists. Names follow the Vault convention (value names end __v standard / __c custom).
PICKLISTS: dict[str, PicklistDef] = {
    p.name: p
    for p in (
        PicklistDef(
            "product_status__c",
            "Product Status",
            (("active__v", "Active"), ("inactive__v", "Inactive")),
            inactive=(("withdrawn__c", "Withdrawn"),),
        ),
        PicklistDef(
            "dosage_form__c",
            "Dosage Form",
            (("tablet__c", "Tablet"), ("capsule__c", "Capsule"), ("syrup__c", "Syrup")),
            inactive=(("powder__c", "Powder"),),
        ),
        PicklistDef(
            "market__c",
            "Market",
            (("us__c", "United States"), ("eu__c", "European Union"), ("jp__c", "Japan"), ("cn__c", "China")),
        ),
    )
}


# Vault's users are records of the system object user__sys; a user field is an Object field
# pointing at it (api-notes vault.md §2.3 `object`), whose values Vault answers as integers (§3.2).
# The sandbox serves no metadata or records of user__sys: only its reference in a field's metadata.
USER_OBJECT = "user__sys"
USER_OBJECT_REF = {"name": USER_OBJECT, "label": "User", "label_plural": "Users", "prefix": "V0U"}


def _picklist_field(
    name: str, label: str, picklist: str, *, multi_value: bool = False, required: bool = False
) -> FieldDef:
    return FieldDef(
        name,
        label,
        "Picklist",
        required=required,
        picklist=PICKLISTS[picklist].active_names,
        picklist_name=picklist,
        multi_value=multi_value,
    )


@dataclass(frozen=True)
class ObjectDef:
    name: str
    label: str
    label_plural: str
    prefix: str
    fields: tuple[FieldDef, ...]
    source: str = "custom"
    name_prefix: str = ""  # for system-managed names, e.g. "FOR-" → FOR-000001
    by_name: dict[str, FieldDef] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    def get(self, name: str) -> FieldDef | None:
        return self.by_name.get(name)

    @cached_property
    def system_managed_name(self) -> bool:
        f = self.get("name__v")
        return bool(f and f.system_managed_name)

    # Worked out once per definition (frozen: a schema change is a new ObjectDef, vault_mdl.py):
    # each row of a 500-record create reads them, where it went through every field.
    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def required_names(self) -> tuple[str, ...]:
        """The fields a row must have a value for (a system-managed name is generated)."""
        return tuple(f.name for f in self.fields if f.required and not (f.name == "name__v" and f.system_managed_name))

    def copied_names(self, *, honour_no_copy: bool) -> tuple[str, ...]:
        """The fields a copy starts from: editable ones, minus no_copy ones when honoured."""
        return self._copied_honouring if honour_no_copy else self._copied_all

    @cached_property
    def _copied_honouring(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._copied_fields if not f.no_copy)

    @cached_property
    def _copied_all(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._copied_fields)

    @property
    def _copied_fields(self) -> Iterator[FieldDef]:
        # [UNCONFIRMED] whether a copy (source_record_id, deep copy) carries an Attachment field's
        # file: here it does not, so the app's file pass sets it.
        return (f for f in self.fields if f.editable and f.type != "Attachment")


SYSTEM_FIELDS = (
    FieldDef("id", "ID", "ID", editable=False, unique=True),
    FieldDef("created_date__v", "Created Date", "DateTime", editable=False),
    FieldDef("modified_date__v", "Last Modified Date", "DateTime", editable=False),
    FieldDef("created_by__v", "Created By", "Number", editable=False),
    FieldDef("modified_by__v", "Last Modified By", "Number", editable=False),
)
COPY_KEY = FieldDef(
    "copy_key__c", "Copy Key", "String", unique=True, no_copy=True, max_length=100
)  # optional idempotency marker used by the copy engine


def _parent(
    name: str,
    label: str,
    target: str,
    outbound: str,
    inbound: str,
    hierarchical: bool = True,
    required: bool = True,
) -> FieldDef:
    return FieldDef(
        name,
        label,
        "Object",
        required=required,
        object=target,
        relationship_type="parent",
        relationship_outbound_name=outbound,
        relationship_inbound_name=inbound,
        relationship_deletion="block",
        hierarchical_copy=hierarchical,
    )


def build_schema(*, copy_keys: bool = True) -> dict[str, ObjectDef]:
    """The demo Vault's objects; without `copy_keys` none has the copy_key__c field (a real Vault)."""
    key: tuple[FieldDef, ...] = (COPY_KEY,) if copy_keys else ()

    country = ObjectDef(
        "country__v",
        "Country",
        "Countries",
        "00C",
        source="standard",
        fields=SYSTEM_FIELDS
        + (
            FieldDef("name__v", "Name", "String", required=True, unique=True, max_length=128),
            FieldDef("code__v", "Country Code", "String", unique=True, max_length=3),
        ),
    )
    product = ObjectDef(
        "product__v",
        "Product",
        "Products",
        "00P",
        source="standard",
        fields=SYSTEM_FIELDS
        + (
            FieldDef("name__v", "Product Name", "String", required=True, unique=True, max_length=128),
            FieldDef("external_id__v", "External ID", "String", unique=True, no_copy=True, max_length=100),
            _picklist_field("status__v", "Status", "product_status__c", required=True),
            FieldDef("description__c", "Description", "LongText", max_length=32000),
            FieldDef("launch_date__c", "Launch Date", "Date"),
            FieldDef("price__c", "Price", "Number"),
            FieldDef("internal_code__c", "Internal Code", "String", no_copy=True, max_length=50),
            FieldDef(
                "country__c",
                "Country",
                "Object",
                object="country__v",
                relationship_type="reference",
                relationship_outbound_name="country__cr",
                relationship_inbound_name="products__cr",
                relationship_deletion="block",
            ),
            _picklist_field("markets__c", "Markets", "market__c", multi_value=True),
            FieldDef(
                "product_manager__c",
                "Product Manager",
                "Object",
                object=USER_OBJECT,
                relationship_type="reference",
                relationship_outbound_name="product_manager__cr",
                relationship_inbound_name="managed_products__cr",
                relationship_deletion="block",
            ),
            FieldDef("regulatory_status__c", "Regulatory Status", "String", editable=False, max_length=50),
        )
        + key,
    )
    formulation = ObjectDef(
        "formulation__c",
        "Formulation",
        "Formulations",
        "V2F",
        name_prefix="FOR-",
        fields=SYSTEM_FIELDS
        + (
            FieldDef("name__v", "Name", "String", editable=False, system_managed_name=True, unique=True),
            _parent("product__c", "Product", "product__v", "product__cr", "formulations__cr"),
            _picklist_field("dosage_form__c", "Dosage Form", "dosage_form__c"),
            FieldDef("strength__c", "Strength", "String", max_length=50),
            # A plain object reference to another formulation (api-notes §2.4: reference
            # relationships may point at their own object): the formulation this one was derived
            # from, usually a sibling under the same product, or the record itself.
            FieldDef(
                "based_on__c",
                "Based On",
                "Object",
                object="formulation__c",
                relationship_type="reference",
                relationship_outbound_name="based_on__cr",
                relationship_inbound_name="derived_formulations__cr",
                relationship_deletion="block",
            ),
        )
        + key,
    )
    packaging = ObjectDef(
        "packaging__c",
        "Packaging",
        "Packagings",
        "V2P",
        name_prefix="PKG-",
        fields=SYSTEM_FIELDS
        + (
            FieldDef("name__v", "Name", "String", editable=False, system_managed_name=True, unique=True),
            _parent("formulation__c", "Formulation", "formulation__c", "formulation__cr", "packagings__cr"),
            FieldDef("pack_size__c", "Pack Size", "Number"),
            FieldDef("gtin__c", "GTIN", "String", unique=True, no_copy=True, max_length=14),
            # An Attachment field: set from a file-staging path, read as its file name (vault_field_files.py).
            FieldDef("artwork__c", "Artwork", "Attachment"),
        )
        + key,
    )
    return {o.name: o for o in (country, product, formulation, packaging, _contact(key))}


def _contact(key: tuple[FieldDef, ...]) -> ObjectDef:
    """A product's contacts (people at distributors, pharmacovigilance): the demo's personal data.
    Vault has no e-mail or phone field type in the metadata the API notes show (vault.md §2.3:
    `String` fields, `format_mask` undocumented in meaning), so these are plain String fields that
    masking finds by name, as it would in a real vault."""
    return ObjectDef(
        "product_contact__c",
        "Product Contact",
        "Product Contacts",
        "V2C",
        fields=SYSTEM_FIELDS
        + (
            FieldDef("name__v", "Contact Name", "String", required=True, max_length=128),
            _parent("product__c", "Product", "product__v", "product__cr", "product_contacts__cr"),
            FieldDef("email__c", "Email", "String", max_length=120),
            FieldDef("phone__c", "Phone", "String", max_length=40),
            FieldDef("street__c", "Street", "String", max_length=120),
            FieldDef("city__c", "City", "String", max_length=60),
            FieldDef("birth_date__c", "Birth Date", "Date"),
            FieldDef("role__c", "Role", "String", max_length=60),
        )
        + key,
    )


def child_relations(
    schema: dict[str, ObjectDef], parent: str, *, hierarchical_only: bool
) -> Iterator[tuple[ObjectDef, FieldDef]]:
    """Yield (child object, parent field) for the parent-child relationships below `parent`."""
    for obj in schema.values():
        for f in obj.fields:
            if f.type == "Object" and f.object == parent and f.relationship_type == "parent":
                if f.hierarchical_copy or not hierarchical_only:
                    yield obj, f
