"""Scenario: the CPU cost of masking per record (target < 0.2 ms).

What the engine does for each copied record with five masked fields: MaskSet.standins (a keyed
HMAC per value, the stand-in built from Faker's data) over 100,000 distinct records, unique e-mail
kept unique. Timed with process CPU time; no I/O, no sandbox.
"""

from __future__ import annotations

import time

from bench.common import Row

NAME = "masking"
TARGET_MS = 0.2


def run(ctx) -> list[Row]:
    from records.connectors.base import FieldInfo, FieldType
    from records.masking.apply import MaskSet

    n = ctx.scale(100_000, 10_000)
    fields = [
        FieldInfo("Email", "Email", FieldType.TEXT, remote_type="email", max_length=100, unique=True),
        FieldInfo("Phone", "Phone", FieldType.TEXT, remote_type="phone", max_length=30),
        FieldInfo("Last_Name", "Last Name", FieldType.TEXT, max_length=80, required=True),
        FieldInfo("Mailing_Street", "Mailing Street", FieldType.TEXT, max_length=250),
        FieldInfo("Date_of_Birth", "Date of Birth", FieldType.DATE),
    ]
    rules = {"Contacts": {"Email": "email", "Phone": "phone", "Last_Name": "name", "Mailing_Street": "address"}}
    rules["Contacts"]["Date_of_Birth"] = "date"
    masks = MaskSet(rules=rules, key=lambda: b"bench-key", describe=lambda _obj: fields)
    sources = (
        {
            "Email": f"person{i}@acme.com",
            "Phone": f"+1 555 {i:07d}",
            "Last_Name": f"Lee{i}",
            "Mailing_Street": f"{i} Harbour Street",
            "Date_of_Birth": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}",
        }
        for i in range(n)
    )
    start = time.process_time()
    for source in sources:
        masks.standins("Contacts", source)
    ms = (time.process_time() - start) * 1000 / n
    return [
        Row(
            NAME,
            f"CPU ms per record, {n:,} records (5 masked fields: email unique, phone, name, address, date)",
            round(ms, 4),
            None,
            None,
            f"< {TARGET_MS}",
            ms < TARGET_MS,
        )
    ]
