"""Module, field and related-list metadata of the Zoho CRM emulator (api-notes zoho.md §5).

Field objects follow the shape of `GET /settings/fields` (§5.2); the emulator's validation, clone
and rendering read the same flags the API returns, so what a client learns from metadata is what
the server enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Ids are 19-digit strings (§3.1); metadata ids come from their own range so they never clash.
_META_BASE = 5725767000000100000
_meta_counter = iter(range(_META_BASE, _META_BASE + 100_000))

JSON_TYPES = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "date": "string",
    "datetime": "string",
    "integer": "integer",
    "double": "double",
    "currency": "double",
    "boolean": "boolean",
    "multiselectpicklist": "jsonarray",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "subform": "jsonarray",
    "fileupload": "jsonarray",
    "imageupload": "jsonarray",
}
DEFAULT_LENGTH = {
    "text": 255,
    "textarea": 32000,
    "email": 100,
    "phone": 30,
    "website": 255,
    "picklist": 120,
    "integer": 9,
    "double": 16,
    "currency": 16,
}
# §2 / §5.2: never copied by a clone.
NOT_COPYABLE_TYPES = frozenset({"fileupload", "imageupload", "formula", "autonumber", "rollup_summary"})


def fld(
    api_name: str,
    data_type: str = "text",
    *,
    label: str | None = None,
    mandatory: bool = False,
    unique: bool = False,
    read_only: bool = False,
    field_read_only: bool = False,
    external: bool = False,
    lookup: str | None = None,
    subform: str | None = None,
    picklist: tuple[str, ...] = (),
    length: int | None = None,
    custom: bool = False,
) -> dict[str, Any]:
    """Return one field object in the §5.2 shape."""
    fid = str(next(_meta_counter))
    out = {
        "api_name": api_name,
        "field_label": label or api_name.replace("_", " "),
        "display_label": label or api_name.replace("_", " "),
        "id": fid,
        "data_type": data_type,
        "json_type": JSON_TYPES.get(data_type, "string"),
        "length": length or DEFAULT_LENGTH.get(data_type, 255),
        "decimal_place": 2 if data_type in ("double", "currency") else None,
        "system_mandatory": mandatory,
        "read_only": read_only or field_read_only,
        "field_read_only": field_read_only,
        "custom_field": custom,
        "visible": True,
        "virtual_field": data_type == "subform",
        # `casesensitive`, a string: Zoho's v8 OAS fields.json and the v7 SDK's model (fields.Unique).
        "unique": {"casesensitive": "false"} if unique else {},
        "external": {"show": True, "type": "user", "allow_multiple_config": False} if external else None,
        "lookup": {},
        "associated_module": None,
        "pick_list_values": [],
        "formula": {},
        "operation_type": {
            "web_update": not read_only,
            "api_create": not (read_only or field_read_only),
            "web_create": not read_only,
            "api_update": not (read_only or field_read_only),
        },
    }
    if lookup:
        out["lookup"] = {
            "display_label": out["display_label"],
            "api_name": api_name,
            "module": {"api_name": lookup, "id": _module_id(lookup)},
            "id": fid,
            "query_details": {},
            "revalidate_filter_during_edit": False,
        }
    if subform:
        out["associated_module"] = {"module": subform, "id": _module_id(subform)}
    if data_type in ("fileupload", "imageupload"):
        out["associated_module"] = {"module": f"{api_name}__s", "id": _module_id(f"{api_name}__s")}
    if picklist:
        out["pick_list_values"] = [
            {
                "display_value": v,
                "actual_value": v,
                "reference_value": v,
                "id": str(next(_meta_counter)),
                "sequence_number": i + 1,
                "colour_code": None,
                "type": "used",
            }
            for i, v in enumerate(picklist)
        ]
    return out


_MODULE_IDS: dict[str, str] = {}


def _module_id(api_name: str) -> str:
    if api_name not in _MODULE_IDS:
        _MODULE_IDS[api_name] = str(5725767000000002000 + len(_MODULE_IDS) * 7)
    return _MODULE_IDS[api_name]


def _system_fields() -> list[dict[str, Any]]:
    return [
        fld("Owner", "ownerlookup", label="Owner"),
        fld("Created_By", "ownerlookup", field_read_only=True),
        fld("Modified_By", "ownerlookup", field_read_only=True),
        fld("Created_Time", "datetime", field_read_only=True),
        fld("Modified_Time", "datetime", field_read_only=True),
    ]


@dataclass
class RelatedList:
    """One related list (§5.3) and how its records point at the parent (§6)."""

    api_name: str
    module: str  # the child module
    link: str  # "lookup" (field holds the parent id), "what" (What_Id + $se_module), "parent" (Notes)
    field: str  # the child's field that points at the parent
    display_label: str = ""


@dataclass
class Module:
    api_name: str
    singular: str
    plural: str
    fields: list[dict[str, Any]]
    name_field: str  # what a lookup's "name" shows
    generated_type: str = "default"
    parent_module: str | None = None
    related: list[RelatedList] = field(default_factory=list)
    coql: bool = True  # §4.4: Notes can't be queried with COQL
    clone_exclusions: tuple[str, ...] = ()  # §2 module-specific exclusions
    upsert_system_fields: tuple[str, ...] = ()  # §3.2 system duplicate-check fields

    def __post_init__(self) -> None:
        self.by_name = {f["api_name"]: f for f in self.fields}
        self.id = _module_id(self.api_name)


STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
TASK_STATUSES = ("Not Started", "In Progress", "Deferred", "Waiting for input", "Completed")
INDUSTRIES = ("Manufacturing", "Retail", "Healthcare", "Finance", "Education")


def _copy_key(copy_keys: bool) -> list[dict[str, Any]]:
    """The copy engine's idempotency field (a custom unique text field), when the org has one."""
    return [fld("Copy_Key", unique=True, custom=True, length=100)] if copy_keys else []


def build_modules(*, copy_keys: bool = True) -> dict[str, Module]:
    """Return the demo org's modules by api_name (fresh objects; metadata ids are stable); without
    `copy_keys` no module has the Copy_Key field (a real org)."""
    global _meta_counter
    # Each org numbers its metadata from the start of the range: a process that starts many
    # sandboxes (a test worker) never runs the range dry, and one org's ids are the same each time.
    _meta_counter = iter(range(_META_BASE, _META_BASE + 100_000))
    accounts = Module(
        "Accounts",
        "Account",
        "Accounts",
        name_field="Account_Name",
        fields=[
            *_system_fields(),
            fld("Account_Name", mandatory=True, length=200),
            fld("Account_Number", unique=True, length=40),
            *_copy_key(copy_keys),
            fld("Phone", "phone"),
            fld("Website", "website"),
            fld("Industry", "picklist", picklist=INDUSTRIES),
            fld("Annual_Revenue", "currency"),
            fld("Employees", "integer"),
            fld("Rating_Score", "double", custom=True),
            fld("Is_Key_Account", "boolean", custom=True),
            fld("Regions", "multiselectpicklist", picklist=("North", "South", "East", "West"), custom=True),
            fld("Customer_Since", "date", custom=True),
            fld("Last_Review", "datetime", custom=True),
            fld("Description", "textarea"),
            fld("Parent_Account", "lookup", lookup="Accounts"),
            fld("ERP_Id", external=True, custom=True, label="ERP Id"),
            fld("Last_Activity_Time", "datetime", field_read_only=True),
            fld("Branches", "subform", subform="Branches", custom=True),
        ],
        upsert_system_fields=("Account_Name",),
    )
    branches = Module(
        "Branches",
        "Branch",
        "Branches",
        name_field="Branch_Name",
        generated_type="subform",
        parent_module="Accounts",
        coql=False,
        fields=[
            fld("Branch_Name", custom=True),
            fld("City", custom=True),
            fld("Parent_Id", "lookup", lookup="Accounts", field_read_only=True),
        ],
    )
    contacts = Module(
        "Contacts",
        "Contact",
        "Contacts",
        name_field="Full_Name",
        fields=[
            *_system_fields(),
            fld("First_Name", length=40),
            fld("Last_Name", mandatory=True, length=80),
            fld("Full_Name", field_read_only=True),
            fld("Email", "email", unique=True),
            fld("Phone", "phone"),
            fld("Mailing_City"),
            fld("Date_of_Birth", "date"),
            fld("Email_Opt_Out", "boolean"),
            fld("Account_Name", "lookup", lookup="Accounts"),
            # Zoho's standard "Reports To": another contact (the demo's reporting lines).
            fld("Reports_To", "lookup", lookup="Contacts", label="Reports To"),
            *_copy_key(copy_keys),
            fld("Photo_File", "fileupload", custom=True),
            fld("Lead_Score", "integer", read_only=True, custom=True),
            fld("Description", "textarea"),
        ],
        upsert_system_fields=("Email",),
    )
    deals = Module(
        "Deals",
        "Deal",
        "Deals",
        name_field="Deal_Name",
        fields=[
            *_system_fields(),
            fld("Deal_Name", mandatory=True, length=120),
            fld("Stage", "picklist", mandatory=True, picklist=STAGES),
            fld("Amount", "currency"),
            fld("Probability", "integer"),
            fld("Closing_Date", "date"),
            fld("Account_Name", "lookup", lookup="Accounts"),
            fld("Contact_Name", "lookup", lookup="Contacts"),
            *_copy_key(copy_keys),
            fld("Description", "textarea"),
        ],
        upsert_system_fields=("Deal_Name",),
    )
    tasks = Module(
        "Tasks",
        "Task",
        "Tasks",
        name_field="Subject",
        fields=[
            *_system_fields(),
            fld("Subject", mandatory=True),
            # §5.2: What_Id's lookup module is the polymorphic placeholder "se_module".
            fld("What_Id", "lookup", lookup="se_module", label="Related To"),
            fld("Who_Id", "lookup", lookup="Contacts", label="Contact Name"),
            fld("Status", "picklist", picklist=TASK_STATUSES),
            fld("Priority", "picklist", picklist=("High", "Normal", "Low")),
            fld("Due_Date", "date"),
            *_copy_key(copy_keys),
            fld("Description", "textarea"),
        ],
        clone_exclusions=("Recurring_Activity", "Remind_At"),
    )
    notes = Module(
        "Notes",
        "Note",
        "Notes",
        name_field="Note_Title",
        coql=False,
        fields=[
            *_system_fields(),
            fld("Note_Title"),
            fld("Note_Content", "textarea", mandatory=True),
            fld("Parent_Id", "lookup", lookup="se_module", label="Parent", mandatory=True),  # §3.4
        ],
    )
    # A module whose name is unique (an admin's "Do not allow duplicate values" on a text field): a
    # copy keeping the name clashes with DUPLICATE_DATA (§3.1), which "make unique" answers.
    products = Module(
        "Products",
        "Product",
        "Products",
        name_field="Product_Name",
        fields=[
            *_system_fields(),
            fld("Product_Name", mandatory=True, unique=True, length=120),
            fld("Product_Code", length=40),
            *_copy_key(copy_keys),
            fld("Description", "textarea"),
        ],
    )
    accounts.related = [
        RelatedList("Contacts", "Contacts", "lookup", "Account_Name"),
        RelatedList("Deals", "Deals", "lookup", "Account_Name"),
        RelatedList("Tasks", "Tasks", "what", "What_Id", "Open Activities"),
        RelatedList("Notes", "Notes", "parent", "Parent_Id"),
    ]
    contacts.related = [
        RelatedList("Deals", "Deals", "lookup", "Contact_Name"),
        RelatedList("Tasks", "Tasks", "lookup", "Who_Id", "Open Activities"),
        RelatedList("Notes", "Notes", "parent", "Parent_Id"),
    ]
    deals.related = [
        RelatedList("Tasks", "Tasks", "what", "What_Id", "Open Activities"),
        RelatedList("Notes", "Notes", "parent", "Parent_Id"),
    ]
    return {m.api_name: m for m in (accounts, contacts, deals, tasks, notes, branches, products)}


def module_meta(m: Module) -> dict[str, Any]:
    """Return one entry of `GET /settings/modules` (§5.1)."""
    return {
        "api_name": m.api_name,
        "module_name": m.api_name,
        "singular_label": m.singular,
        "plural_label": m.plural,
        "actual_singular_label": m.singular,
        "actual_plural_label": m.plural,
        "id": m.id,
        "generated_type": m.generated_type,
        "api_supported": True,
        "creatable": m.generated_type != "subform",
        "editable": True,
        "deletable": True,
        "viewable": True,
        "convertable": False,
        "quick_create": True,
        "show_as_tab": m.generated_type != "subform",
        "visibility": 1,
        "status": "visible",
        "parent_module": {"api_name": m.parent_module, "id": _module_id(m.parent_module)} if m.parent_module else {},
        "recycle_bin_on_delete": True,
        "access_type": "org_based",
        "arguments": [],
        "web_link": None,
        "sequence_number": 0,
    }


def related_list_meta(parent: Module, rl: RelatedList, seq: int) -> dict[str, Any]:
    """Return one entry of `GET /settings/related_lists` (§5.3); sequence_number is a string there."""
    return {
        "api_name": rl.api_name,
        "display_label": rl.display_label or rl.api_name,
        "name": rl.api_name,
        "module": {"api_name": rl.module, "id": _module_id(rl.module)},
        "href": f"{parent.api_name}/{{ENTITYID}}/{rl.api_name}",
        "type": "default",
        "id": _module_id(f"{parent.api_name}.{rl.api_name}"),
        "sequence_number": str(seq),
        "status": "visible",
        "action": None,
        "connectedmodule": None,
        "linkingmodule": None,
    }
