import numpy as np
import pytest
import torch

from onesearch.model.anchored import AnchoredConfig, AnchoredDecoder


def _random_model(learn_nodes: bool = True) -> AnchoredDecoder:
    torch.manual_seed(1)
    config = AnchoredConfig(dim=8, nodes=(4, 12), evidence=5, hidden=6, learn_nodes=learn_nodes)
    model = AnchoredDecoder(config, [torch.randn(4, 8), torch.randn(12, 8)])
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter)  # every correction non-zero, so each term is checked
    return model


@pytest.mark.parametrize("learn_nodes", [False, True])
def test_the_search_time_score_equals_the_batched_training_score(learn_nodes):
    model = _random_model(learn_nodes)
    state, rng = torch.randn(8), np.random.default_rng(0)
    with torch.no_grad():
        for depth, nodes in ((0, np.array([2, 0, 3, 1])), (1, np.array([7, 3, 11])), (1, np.array([11, 0, 4, 2, 8, 6, 10])), (1, rng.permutation(12)), (1, None)):
            ids = np.arange(model.config.nodes[depth]) if nodes is None else nodes
            static = torch.randn(model.config.nodes[depth], 2)
            planned = np.sort(rng.choice(len(ids), size=len(ids) // 2, replace=False))
            request = torch.zeros(len(ids), 3)
            request[planned] = torch.randn(len(planned), 3)
            evidence = torch.cat([static[ids], request], dim=1)  # static, then request evidence: 0 where unplanned
            batched = model.score(state[None], depth, torch.from_numpy(ids)[None], evidence[None])[0]
            found = model.depth_scorer(depth, static).scores(model.node_dense(state, depth, ids), nodes, planned, request[planned])
            torch.testing.assert_close(found, batched)


def test_states_from_the_last_depths_maps_are_the_last_depths_states():
    model = _random_model()
    query, user = torch.randn(3, 8), torch.randn(3, 8)
    with torch.no_grad():
        full = model.states(query, user)
        last = model.states(query, user, tuple(m[-8:] for m in model.state_maps()))
        torch.testing.assert_close(last, full[:, -1:])
        per_depth = [query + model.query[d](query) + model.user[d](user) for d in range(2)]  # h_d = q + A_d q + B_d u, depth by depth
        torch.testing.assert_close(full, torch.stack(per_depth, dim=1))
