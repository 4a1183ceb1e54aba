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
