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


def _random_trees(rng, trees, size):
    """Several trees side by side (a plan of several top records), with lookups anywhere: to
    records above, beside, below, in cycles, in another tree, to themselves, outside the trees."""
    nodes = []
    for t in range(trees):
        level = [f"r{t}"]
        nodes.append(node(f"r{t}", 0))
        for depth in range(1, 4):
            below = [f"{t}-{depth}-{i}" for i in range(size)]
            nodes += [node(sid, depth, rng.choice(level)) for sid in below]
            level = below
    for again in rng.sample(nodes, rng.randint(0, 3)):  # a record reached from two top records
        nodes.append(node(again.source_id, rng.randint(1, 3), rng.choice(nodes).source_id))
    ids = [n.source_id for n in nodes] + ["outside"]
    for n in rng.sample(nodes, len(nodes) // 10):
        n.fields["Lookup"] = {"id": rng.choice(ids)} if rng.random() < 0.5 else rng.choice(ids)
    return nodes


def test_the_waves_built_over_the_records_that_may_move_are_those_of_the_whole_graph():
    import random

    from records.copying.waves import references_within, waves_of_graph

    moved = 0
    for seed in range(40):
        rng = random.Random(seed)
        nodes = _random_trees(rng, trees=rng.randint(1, 3), size=rng.randint(2, 30))
        whole = waves_of_graph(references_within(nodes), {n.source_id: n.depth for n in nodes})
        assert assign_waves(nodes) == whole, seed
        moved += any(whole[n.source_id] != n.depth for n in nodes)
    assert moved >= 20  # most of the trees have records created below their depth


def test_a_tree_whose_records_point_only_above_them_builds_no_graph():
    from records.copying.waves import pushed_graph

    nodes = [node("acc", 0), node("c", 1, "acc"), node("t", 2, "c", What_Id={"id": "acc"}, Who_Id={"id": "c"})]
    assert pushed_graph(nodes, {n.source_id: n.depth for n in nodes}) == {}
    assert assign_waves(nodes) == {"acc": 0, "c": 1, "t": 2}
