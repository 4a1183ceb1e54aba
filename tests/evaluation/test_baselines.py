from onesearch.evaluation.baselines import RandomSearcher
from onesearch.types import SearchRequest


def test_random_floor_gives_k_distinct_catalog_items_reproducibly():
    items = [f"i{n}" for n in range(50)]
    first = RandomSearcher(items, seed=3).search([SearchRequest("a"), SearchRequest("b")], k=10)
    again = RandomSearcher(items, seed=3).search([SearchRequest("a"), SearchRequest("b")], k=10)
    assert first == again and all(len({h.item_id for h in hits}) == 10 and {h.item_id for h in hits} <= set(items) for hits in first)
    assert first[0] != first[1]
    assert len(RandomSearcher(items[:3]).search([SearchRequest("a")], k=10)[0]) == 3
    warmed = RandomSearcher(items, seed=3)
    warmed.search([SearchRequest("c")] * 4, k=10)  # what was searched before changes nothing
    assert warmed.search([SearchRequest("b"), SearchRequest("a")], k=10) == first[::-1]
    assert RandomSearcher(items, seed=4).search([SearchRequest("a")], k=10)[0] != first[0]
