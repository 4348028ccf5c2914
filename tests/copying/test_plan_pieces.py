"""A plan's trees stored as pieces (PlanChunk rows) and read back a piece at a time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.copying import plan_pieces, tree
from records.copying.plan_pieces import CHUNK_NODES, InMemoryTrees, StoredTrees
from records.models import CopyPlan, PlanChunk

# Bulk statements split at each backend's own parameter limit: CI runs these on SQLite too.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
ROOT = "100"


def _tree(children: int) -> list[tree.Node]:
    """An account, `children` contacts under it, each but the first reporting to the one before."""
    nodes = [tree.Node("Accounts", ROOT, 0, fields={"Account_Name": "Big"}, name="Big")]
    for i in range(children):
        fields = {"Last_Name": f"C{i}", "Account_Name": {"id": ROOT}}
        if i:
            fields["Reports_To"] = {"id": f"c{i - 1}"}
        nodes.append(tree.Node("Contacts", f"c{i}", 1, ROOT, "Account_Name", fields, f"C{i}"))
    return nodes


def _row(engine_profile) -> CopyPlan:
    return CopyPlan.objects.create(
        profile=engine_profile, requested_by=engine_profile.owner, object_name="Accounts", mode="deep_copy", key="k"
    )


def test_a_large_tree_is_stored_in_pieces_and_read_back_in_order(engine_profile):
    row, nodes = _row(engine_profile), _tree(2 * CHUNK_NODES + 10)
    plan_pieces.store(plan_id=row.pk, trees={ROOT: nodes}, snapshot=True)
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value({ROOT: nodes}, True))
    row.refresh_from_db()

    sizes = list(PlanChunk.objects.filter(plan=row).order_by("seq").values_list("seq", "root"))
    assert sizes == [(0, ROOT), (1, ROOT), (2, ROOT)]
    assert row.trees == {"snapshot": True, "pieces": [ROOT]}  # no record in the plan row itself
    pieces = list(StoredTrees(row).chunks(ROOT))
    assert [len(p) for p in pieces] == [CHUNK_NODES, CHUNK_NODES, 11]
    assert [n for p in pieces for n in p] == nodes
    assert plan_pieces.top_name(StoredTrees(row), ROOT) == "Big"


def test_without_snapshots_the_pieces_keep_no_field_values(engine_profile):
    row = _row(engine_profile)
    plan_pieces.store(plan_id=row.pk, trees={ROOT: _tree(3)}, snapshot=False)
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value({ROOT: _tree(3)}, False))
    row.refresh_from_db()
    stored = list(plan_pieces.stored_nodes(row))
    assert len(stored) == 4 and all(n["fields"] == {} for n in stored)
    assert [n["name"] for n in stored] == ["Big", "C0", "C1", "C2"]


def test_storing_again_replaces_the_pieces(engine_profile):
    row = _row(engine_profile)
    plan_pieces.store(plan_id=row.pk, trees={ROOT: _tree(CHUNK_NODES + 1)}, snapshot=True)
    plan_pieces.store(plan_id=row.pk, trees={ROOT: _tree(2)}, snapshot=True)
    assert PlanChunk.objects.filter(plan=row).count() == 1


def test_many_one_record_trees_are_stored_in_a_few_statements_and_read_back_each_as_its_own(engine_profile):
    row = _row(engine_profile)
    trees = {f"r{i}": [tree.Node("Accounts", f"r{i}", 0, name=f"R{i}")] for i in range(CHUNK_NODES + 3)}
    with CaptureQueriesContext(connection) as queries:
        plan_pieces.store(plan_id=row.pk, trees=trees, snapshot=False)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    # Bulk statements, each split at the backend's parameter limit (SQLite: ~250 rows), not one a tree.
    assert len(inserts) < len(trees) / 100
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value(trees, False))
    row.refresh_from_db()
    pieces = StoredTrees(row)
    assert pieces.roots() == list(trees)
    assert [list(pieces.chunks(r)) for r in ("r0", f"r{CHUNK_NODES + 2}")] == [
        [trees["r0"]],
        [trees[f"r{CHUNK_NODES + 2}"]],
    ]
    assert list(PlanChunk.objects.filter(plan=row).order_by("seq").values_list("root", flat=True)) == list(trees)


def test_a_plan_stored_before_the_pieces_is_still_read(engine_profile):
    row = _row(engine_profile)
    old = {"snapshot": True, "roots": {ROOT: [tree.node_dict(n) for n in _tree(2)]}}
    CopyPlan.objects.filter(pk=row.pk).update(trees=old)
    row.refresh_from_db()
    pieces = StoredTrees(row)
    assert pieces.roots() == [ROOT]
    assert [n for p in pieces.chunks(ROOT) for n in p] == _tree(2)


def test_the_waves_of_a_tree_in_pieces_are_those_of_the_whole_tree(engine_profile):
    nodes = _tree(CHUNK_NODES + 5)
    row = _row(engine_profile)
    plan_pieces.store(plan_id=row.pk, trees={ROOT: nodes}, snapshot=True)
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value({ROOT: nodes}, True))
    row.refresh_from_db()
    whole = tree.assign_waves(nodes)
    assert (
        plan_pieces.waves_of(StoredTrees(row), ROOT)
        == whole
        == plan_pieces.waves_of(InMemoryTrees({ROOT: nodes}), ROOT)
    )
    assert max(whole.values()) > 1  # the contacts reporting to each other are pushed to later waves


def test_a_tree_pointing_only_at_parents_is_created_level_by_level():
    nodes = _tree(1) + [
        tree.Node("Tasks", f"t{i}", 2, "c0", "Who_Id", {"Who_Id": {"id": "c0"}, "Subject": "x"}) for i in range(3)
    ]
    waves = plan_pieces.waves_of(InMemoryTrees({ROOT: nodes}), ROOT)
    assert waves == tree.assign_waves(nodes) == {ROOT: 0, "c0": 1, "t0": 2, "t1": 2, "t2": 2}


def _compact(node: tree.Node) -> tree.Node:
    return tree.Node(node.object_name, node.source_id, node.depth, node.parent_source_id, name=node.name)


def test_a_plan_read_stores_its_records_as_they_come_and_keeps_them_compacted(engine_profile):
    row, nodes = _row(engine_profile), _tree(CHUNK_NODES + 3)
    writer = plan_pieces.PieceWriter(plan_id=row.pk, snapshot=True, compact=_compact)
    keep = writer.keep_of(ROOT)
    kept = [keep(n) for n in nodes[: CHUNK_NODES + 1]]
    assert PlanChunk.objects.filter(plan=row).count() == 1  # a full piece is stored before the read ends
    assert kept[1].fields == {} and kept[1].source_id == "c0"
    kept += [keep(n) for n in nodes[CHUNK_NODES + 1 :]]
    writer.finish({ROOT: kept})
    CopyPlan.objects.filter(pk=row.pk).update(trees=plan_pieces.stored_value({ROOT: kept}, True))
    row.refresh_from_db()
    assert [n for p in StoredTrees(row).chunks(ROOT) for n in p] == nodes  # the snapshots whole


def test_the_read_that_ends_a_plan_keeps_its_own_pieces_and_a_dropped_read_leaves_none(engine_profile):
    row, nodes = _row(engine_profile), _tree(5)
    other = plan_pieces.PieceWriter(plan_id=row.pk, snapshot=True, compact=_compact)
    ours = plan_pieces.PieceWriter(plan_id=row.pk, snapshot=True, compact=_compact)
    ours.base = other.base + plan_pieces.READ_PIECES  # two reads of one plan at once (a revive)
    ours.seq = ours.base
    for writer in (other, ours):
        keep = writer.keep_of(ROOT)
        for n in nodes:
            keep(n)
    ours.finish({ROOT: nodes})
    assert list(PlanChunk.objects.filter(plan=row).values_list("seq", flat=True)) == [ours.base]
    other.drop()
    assert PlanChunk.objects.filter(plan=row).count() == 1
    ours.drop()
    assert not PlanChunk.objects.filter(plan=row).exists()


def test_a_plan_read_without_the_writer_is_stored_whole_at_its_end(engine_profile):
    row, nodes = _row(engine_profile), _tree(3)
    plan_pieces.PieceWriter(plan_id=row.pk, snapshot=False, compact=_compact).finish({ROOT: nodes})
    assert [len(n) for n in PlanChunk.objects.filter(plan=row).values_list("nodes", flat=True)] == [4]
