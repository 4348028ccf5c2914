"""Deterministic demo data of the Zoho CRM emulator.

Ten ordinary accounts with a handful of related records each, "Big Account" with about 1,000
related records and "Huge Account" with about 2,100 (contacts, deals, tasks and notes, plus
grandchildren: notes and tasks under its contacts, tasks and notes under its deals). Last,
"Reporting Lines" (REPORTING_ACCOUNT): four contacts whose Reports_To point at each other (a
cycle), at itself and at a colleague, for the copy's re-pointing of references inside the tree.
"""

from __future__ import annotations

from sandbox import target_org
from sandbox.zoho_schema import INDUSTRIES, STAGES, TASK_STATUSES
from sandbox.zoho_state import DEMO_TIME, ZohoState

SMALL_ACCOUNTS = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Imports",
    "Soylent Foods",
    "Tyrell Systems",
)
# name: (contacts, deals, tasks, notes, per contact (notes, tasks), per deal (tasks, notes), branches)
SHAPES = {
    "small": (3, 2, 2, 2, (1, 1), (1, 1), 2),
    "Big Account": (120, 60, 120, 120, (2, 1), (2, 2), 3),  # 420 + 360 + 240 = 1,020 related
    "Huge Account": (250, 120, 250, 250, (2, 1), (2, 2), 3),  # 870 + 750 + 480 = 2,100 related
}
CITIES = ("Berlin", "Paris", "Austin", "Osaka", "Recife", "Chennai")
REPORTING_ACCOUNT = "Reporting Lines"
GIANT_ACCOUNT = "Giant Account"  # only when asked: ZohoSettings.giant_related
# Its contacts by last name -> the last name of the contact each reports to.
REPORTING_LINES = {"Lead A": "Lead B", "Lead B": "Lead A", "Solo": "Solo", "Member": "Lead A"}


def giant_shape(related: int) -> tuple:
    """Giant Account's shape for `related` records (a multiple of 10,000 keeps it exact): per 10,000,
    1,800 below the account (1,000 contacts, 200 deals, 500 tasks, 100 notes), 6,000 tasks under the
    contacts and 2,200 tasks and notes under the deals. Notes are read per parent (COQL can't read
    them), so they hang under few parents: the deals, not the contacts."""
    k = related / 10_000
    return (round(1000 * k), round(200 * k), round(500 * k), round(100 * k), (0, 6), (8, 3), 2)


def load(state: ZohoState, *, giant: int = 0) -> None:
    """Fill a fresh state with the demo org (ids and values are the same on every call); `giant`:
    also "Giant Account" with about that many related records (last, after everything else)."""
    stamp = DEMO_TIME.isoformat(timespec="seconds")
    if state.org == "target":
        _target_accounts(state, stamp)
        return
    org = _DemoOrg(state, stamp)
    names = [(name, SHAPES["small"]) for name in SMALL_ACCOUNTS]
    names += [("Big Account", SHAPES["Big Account"]), ("Huge Account", SHAPES["Huge Account"])]
    for a, (name, shape) in enumerate(names, start=1):
        org.account(a, name, shape)
    # Last, so the ids of everything above stay as they were.
    for k, product in enumerate(("Widget", "Gadget", "Gizmo"), start=1):
        org.add(
            "Products",
            {
                "Product_Name": product,
                "Product_Code": f"PRD-{k:03d}",
                "Copy_Key": None,
                "Description": f"{product}, a demo product.",
            },
        )
    _reporting_lines(state, stamp)
    if giant:
        org.account(len(names) + 1, GIANT_ACCOUNT, giant_shape(giant))


class _DemoOrg:
    """Adds the demo records, numbering each kind across accounts. The order of the adds is the
    order of the ids: keep it."""

    def __init__(self, state: ZohoState, stamp: str):
        self.state, self.stamp = state, stamp
        self.counters = {"contact": 0, "deal": 0, "task": 0, "note": 0}

    def add(self, module, values):
        return _add(self.state, module, values, self.stamp)["id"]

    def _next(self, kind: str) -> int:
        self.counters[kind] += 1
        return self.counters[kind]

    def account(self, a: int, name: str, shape: tuple) -> None:
        """An account, its contacts and deals, then the tasks and notes of each."""
        n_contacts, n_deals, n_tasks, n_notes, (c_notes, c_tasks), (d_tasks, d_notes), n_branches = shape
        account = self.add(
            "Accounts",
            {
                "Account_Name": name,
                "Account_Number": f"ACC-{a:04d}",
                "Copy_Key": None,
                "Phone": f"+1 555 01{a:02d}",
                "Website": f"https://{name.lower().replace(' ', '')}.example",
                "Industry": INDUSTRIES[a % len(INDUSTRIES)],
                "Annual_Revenue": 100000.0 * a,
                "Employees": 10 * a,
                "Rating_Score": round(a / 3, 2),
                "Is_Key_Account": a % 2 == 0,
                "Regions": ["North", "West"][: 1 + a % 2],
                "Customer_Since": f"20{15 + a % 9}-0{1 + a % 9}-15",
                "Last_Review": "2024-01-10T10:00:00+05:30",
                "Description": f"{name} is a demo account.",
                "ERP_Id": f"ERP-{a:05d}",
                "Last_Activity_Time": self.stamp,
                "Branches": [
                    {"Branch_Name": f"{name} {CITIES[(a + b) % len(CITIES)]}", "City": CITIES[(a + b) % len(CITIES)]}
                    for b in range(n_branches)
                ],
            },
        )
        contacts = [self.contact(account) for _ in range(n_contacts)]
        deals = [self.deal(name, account, contacts, d) for d in range(n_deals)]
        for _ in range(n_tasks):
            self.task(name, what=account, what_module="Accounts")
        for _ in range(n_notes):
            self.note("Accounts", account, name)
        for contact in contacts:
            for _ in range(c_notes):
                self.note("Contacts", contact, f"{name} contact")
            for _ in range(c_tasks):
                self.task(f"{name} contact", who=contact)
        for deal in deals:
            for _ in range(d_tasks):
                self.task(f"{name} deal", what=deal, what_module="Deals")
            for _ in range(d_notes):
                self.note("Deals", deal, f"{name} deal")

    def contact(self, account: str) -> str:
        c = self._next("contact")
        return self.add(
            "Contacts",
            {
                "First_Name": f"Pat{c}",
                "Last_Name": f"Contact {c}",
                "Email": f"contact{c}@demo.example",
                "Phone": f"+1 555 2{c:04d}",
                "Mailing_City": CITIES[c % len(CITIES)],
                "Date_of_Birth": f"19{60 + c % 40}-0{1 + c % 9}-1{c % 9}",
                "Email_Opt_Out": c % 5 == 0,
                "Account_Name": account,
                "Copy_Key": None,
                "Lead_Score": c % 100,
                "Photo_File": [
                    {"File_Id__s": f"file{c:06d}", "File_Name__s": f"photo{c}.png", "Size__s": str(2_000 + c)}
                ]
                if c % 4 == 0
                else None,  # Size__s: the bytes zoho_files.py answers for the id
            },
        )

    def deal(self, name: str, account: str, contacts: list[str], d: int) -> str:
        k = self._next("deal")
        return self.add(
            "Deals",
            {
                "Deal_Name": f"{name} deal {k}",
                "Stage": STAGES[k % len(STAGES)],
                "Amount": 1000.0 * (k % 50 + 1),
                "Probability": (k * 10) % 100,
                "Closing_Date": f"2024-{1 + k % 12:02d}-{1 + k % 28:02d}",
                "Account_Name": account,
                "Contact_Name": contacts[d % len(contacts)] if contacts else None,
                "Copy_Key": None,
            },
        )

    def note(self, parent_module, parent_id, title):
        n = self._next("note")
        self.add(
            "Notes",
            {
                "Note_Title": f"{title} note {n}",
                "Note_Content": f"Demo note {n} about {title}.",
                "Parent_Id": parent_id,
                "$se_module": parent_module,
            },
        )

    def task(self, subject, *, what=None, what_module=None, who=None):
        n = self._next("task")
        self.add(
            "Tasks",
            {
                "Subject": f"{subject} task {n}",
                "What_Id": what,
                "$se_module": what_module,
                "Who_Id": who,
                "Status": TASK_STATUSES[n % len(TASK_STATUSES)],
                "Priority": ("High", "Normal", "Low")[n % 3],
                "Due_Date": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
            },
        )


def _reporting_lines(state: ZohoState, stamp: str) -> None:
    """Appended after everything else, so the ids and counts above stay as they were."""
    account = _add(state, "Accounts", {"Account_Name": REPORTING_ACCOUNT, "Copy_Key": None}, stamp)["id"]
    contacts = {
        last: _add(
            state,
            "Contacts",
            {"First_Name": "Rae", "Last_Name": last, "Account_Name": account, "Copy_Key": None},
            stamp,
        )
        for last in REPORTING_LINES
    }
    # Set once all exist: the cycle has no order in which each points at an existing contact.
    for last, boss in REPORTING_LINES.items():
        contacts[last]["Reports_To"] = contacts[boss]["id"]


def _target_accounts(state: ZohoState, stamp: str) -> None:
    """The target org's reference data: a few accounts by the main org's names, other ids and numbers."""
    for a, name in enumerate(target_org.ZOHO_ACCOUNTS, start=1):
        values = {"Account_Name": name, "Account_Number": f"TGT-{a:04d}", "Copy_Key": None, "Industry": INDUSTRIES[0]}
        _add(state, "Accounts", values, stamp)


def _add(state: ZohoState, module: str, values: dict, stamp: str) -> dict:
    """A demo record as the data migration user loaded it; without its module's Copy_Key field
    when the org is served without copy keys."""
    if "Copy_Key" not in state.modules[module].by_name:
        values = {k: v for k, v in values.items() if k != "Copy_Key"}
    return state.add(module, values, stamp=stamp, by=state.data_user)
