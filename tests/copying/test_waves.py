"""The creation order of an engine-built copy (records/copying/waves.py): after what a record points
at, except inside a cycle (re-pointed by the second pass) and past MAX_EXTRA_WAVES."""

from records.copying.tree import Node, assign_waves
from records.copying.waves import MAX_EXTRA_WAVES, components


def node(sid, depth, parent="", **fields):
    return Node("Contacts" if depth else "Accounts", sid, depth, parent_source_id=parent, fields=fields)


def test_a_lookup_to_a_sibling_comes_first_and_a_cycle_shares_a_wave():
    nodes = [
        node("acc", 0),
        node("a", 1, "acc", Reports_To={"id": "b"}),
        node("b", 1, "acc", Reports_To={"id": "a"}),
        node("self", 1, "acc", Reports_To={"id": "self"}),
        node("m", 1, "acc", Reports_To={"id": "a"}),
        node("t", 2, "m", What_Id={"id": "acc"}),
    ]
    assert assign_waves(nodes) == {"acc": 0, "a": 1, "b": 1, "self": 1, "m": 2, "t": 3}


def test_a_long_chain_stops_at_the_cap_and_children_stay_after_parents():
    chain = [node("acc", 0)] + [
        node(f"c{i}", 1, "acc", **({"Reports_To": {"id": f"c{i - 1}"}} if i else {})) for i in range(2000)
    ]
    chain.append(node("task", 2, "c1999"))
    waves = assign_waves(chain)  # no recursion: deep chains are fine
    assert waves["c0"] == 1 and waves["c3"] == 4 and max(waves.values()) == 1 + MAX_EXTRA_WAVES + 1
    assert waves["c1999"] == 1 + MAX_EXTRA_WAVES and waves["task"] == waves["c1999"] + 1


def test_components_are_listed_after_what_they_point_at():
    graph = {"x": {"y"}, "y": {"z"}, "z": {"y"}, "w": set()}
    out = components(graph)
    assert sorted(map(sorted, out)) == [["w"], ["x"], ["y", "z"]]
    assert out.index(["x"]) > [i for i, c in enumerate(out) if "y" in c][0]
