from onesearch.evaluation.slices import Slicer
from onesearch.types import Example, Target


def _example(query, user=None, items=("a",)):
    return Example("e", "train", tuple(Target(i, 1.0, True) for i in items), query=query, user_id=user)


def test_bands_follow_train_traffic_shares():
    # Traffic: shoes 6, hats 3, socks 1 (total 10). Shares before each query: shoes 0.0 -> head,
    # hats 0.6 -> torso (0.5 <= 0.6 < 0.8), socks 0.9 -> tail; unseen queries are tail.
    train = [_example("Shoes")] * 6 + [_example("hats")] * 3 + [_example("socks")]
    slicer = Slicer(train)
    assert slicer.labels(_example("shoes "))["query"] == "head"
    assert slicer.labels(_example("hats"))["query"] == "torso"
    assert slicer.labels(_example("socks"))["query"] == "tail"
    assert slicer.labels(_example("gloves"))["query"] == "tail"


def test_users_and_items_are_warm_only_when_seen_in_train():
    slicer = Slicer([_example("q", user="u1", items=("a", "b"))])
    assert slicer.labels(_example("q", user="u1", items=("a",))) == {"query": "head", "user": "warm", "item": "warm"}
    assert slicer.labels(_example("q", user="u2", items=("a", "z")))["item"] == "mixed"
    assert slicer.labels(_example("q", user="u2", items=("z",)))["user"] == "cold"
    assert slicer.labels(_example("q", items=("z",)))["item"] == "cold"
    assert slicer.labels(_example("q"))["user"] == "anonymous"
