import numpy as np
import pytest
import torch

from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder


@pytest.mark.parametrize("learn_nodes", [False, True])
def test_the_search_time_score_equals_the_batched_training_score(learn_nodes):
    torch.manual_seed(0)
    config = AnchoredConfig(dim=8, nodes=(4, 12), evidence=3, hidden=5, learn_nodes=learn_nodes)
    model = AnchoredDecoder(config, [torch.randn(4, 8), torch.randn(12, 8)])
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter)  # every correction non-zero, so each term is checked
    state = torch.randn(8)
    with torch.no_grad():
        for depth, nodes in ((0, np.array([2, 0, 3, 1])), (1, np.array([7, 3, 11])), (1, np.array([11, 0, 4, 2, 8, 6, 10])), (1, np.random.default_rng(0).permutation(12))):
            evidence = torch.randn(len(nodes), 3)
            batched = model.score(state[None], depth, torch.from_numpy(nodes)[None], evidence[None])[0]
            torch.testing.assert_close(model.score_one(state, depth, nodes, evidence), batched)


def _random_model(learn_nodes: bool = True) -> AnchoredDecoder:
    torch.manual_seed(1)
    config = AnchoredConfig(dim=8, nodes=(4, 12), evidence=5, hidden=6, learn_nodes=learn_nodes)
    model = AnchoredDecoder(config, [torch.randn(4, 8), torch.randn(12, 8)])
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter)
    return model


@pytest.mark.parametrize("learn_nodes", [False, True])
def test_every_node_scores_equal_the_search_time_scores_of_all_nodes(learn_nodes):
    model = _random_model(learn_nodes)
    static, planned, state = torch.randn(12, 2), np.array([1, 4, 9]), torch.randn(8)
    request = torch.randn(len(planned), 3)
    evidence = torch.cat([static, torch.zeros(12, 3)], dim=1)
    evidence[planned, 2:] = request
    with torch.no_grad():
        expected = model.score_one(state, 1, np.arange(12), evidence)
        torch.testing.assert_close(model.every_node(1, static).scores(state, torch.from_numpy(planned), request), expected)


def test_states_from_the_last_depths_maps_are_the_last_depths_states():
    model = _random_model()
    query, user = torch.randn(3, 8), torch.randn(3, 8)
    with torch.no_grad():
        full = model.states(query, user)
        last = model.states(query, user, tuple(m[-8:] for m in model.state_maps()))
        torch.testing.assert_close(last, full[:, -1:])
        per_depth = [query + model.query[d](query) + model.user[d](user) for d in range(2)]  # h_d = q + A_d q + B_d u, depth by depth
        torch.testing.assert_close(full, torch.stack(per_depth, dim=1))
