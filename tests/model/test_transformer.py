import numpy as np
import pytest
import torch

from onesearch.model.inputs import ContextBuilder, Kind, Views
from onesearch.model.transformer import CodeDecoder, ModelConfig
from onesearch.types import HistoryEvent, InteractionType, SearchRequest, UserContext

SIZES = (8, 4, 4, 3)
CONFIG = ModelConfig(code_sizes=SIZES, memory_dim=12, d_model=32, layers=2, heads=2, feedforward=64, dropout=0.0, kinds=Kind.COUNT)
ALL_VIEWS = Views(query_code=True, profile=True, user_id=True, short_term=True, long_term=True, profile_vocab=16, matched_items=4)


def _codes(n: int) -> torch.Tensor:
    return torch.stack([torch.randint(0, s, (n,)) for s in SIZES], dim=1)


def _requests() -> list[SearchRequest]:
    history = (HistoryEvent("a", InteractionType.CLICK, 1, "drill"), HistoryEvent("b", InteractionType.ORDER, 2), HistoryEvent("c", InteractionType.CART, 3, "saw"))
    return [
        SearchRequest("q", UserContext("u1", {"age": "30-39"}, history)),
        SearchRequest("q", UserContext("u2", {}, ())),
        SearchRequest("q"),
    ]


@pytest.mark.parametrize("kv_cache", [True, False])
@pytest.mark.parametrize("views", [Views(), ALL_VIEWS])
def test_step_by_step_decoding_equals_teacher_forcing(kv_cache, views):
    """Both steppers, with and without context views, give the teacher-forced log-probs; rows
    are request-major and a request's beams share its memory."""
    torch.manual_seed(0)
    model = CodeDecoder(ModelConfig(**{**CONFIG.__dict__, "views": views})).eval()
    states, padding = torch.randn(3, 7, 12), torch.zeros(3, 7, dtype=torch.bool)
    padding[0, 5:] = True
    context = recent = per_beam = None
    if views.personal:
        builder = ContextBuilder(views, {"a": (1, 2, 3, 0), "b": (1, 0, 0, 0), "c": (5, 3, 3, 2)}, SIZES)
        query_codes = np.array([[1, 1, 0], [3, 3, 3], [-1, -1, -1]])
        context = builder.build(_requests(), query_codes)
        per_beam = builder.build([r for r in _requests() for _ in range(2)], query_codes.repeat(2, axis=0))
        recent = (torch.randn(3, 2, 12), torch.tensor([[False, False], [True, True], [True, True]]))
    beams = 2
    codes = _codes(3 * beams)
    with torch.no_grad():
        memory, memory_padding = model.memory(states, padding, context, recent)
        forced = model(states.repeat_interleave(beams, 0), padding.repeat_interleave(beams, 0), codes,
                       None if context is None else per_beam,
                       None if recent is None else (recent[0].repeat_interleave(beams, 0), recent[1].repeat_interleave(beams, 0)))
        steps = model.steps(kv_cache)
        state, last = steps.start(memory, memory_padding), None
        state = steps.reorder(state, torch.arange(3).repeat_interleave(beams))
        for depth in range(len(SIZES)):
            log_probs, state = steps.step(state, last, depth)
            torch.testing.assert_close(log_probs, torch.log_softmax(forced[depth], -1), atol=1e-5, rtol=1e-5)
            last = codes[:, depth]


def test_views_change_the_output_and_missing_views_are_masked():
    torch.manual_seed(0)
    model = CodeDecoder(ModelConfig(**{**CONFIG.__dict__, "views": ALL_VIEWS})).eval()
    builder = ContextBuilder(ALL_VIEWS, {"a": (1, 2, 3, 0), "b": (1, 0, 0, 0), "c": (5, 3, 3, 2)}, SIZES)
    context = builder.build(_requests(), torch.tensor([[1, 1, 0], [3, 3, 3], [-1, -1, -1]]).numpy())
    states, padding = torch.randn(1, 4, 12).repeat(3, 1, 1), torch.zeros(3, 4, dtype=torch.bool)
    with torch.no_grad():
        logits = model(states, padding, _codes(3), context)[0]
    assert not torch.allclose(logits[0], logits[2]) and torch.isfinite(logits).all()


def test_a_few_codes_can_be_memorized():
    torch.manual_seed(0)
    model = CodeDecoder(CONFIG)
    memory, padding = torch.randn(6, 4, 12), torch.zeros(6, 4, dtype=torch.bool)
    codes = _codes(6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = float(model.loss(memory, padding, codes).detach())
    for _ in range(150):
        loss = model.loss(memory, padding, codes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.1 * first
