import torch

from onesearch.model.transformer import CodeDecoder, ModelConfig

CONFIG = ModelConfig(code_sizes=(8, 4, 4, 3), memory_dim=12, d_model=32, layers=2, heads=2, feedforward=64, dropout=0.0)


def test_step_by_step_decoding_equals_teacher_forcing():
    torch.manual_seed(0)
    model = CodeDecoder(CONFIG).eval()
    memory, padding = torch.randn(5, 7, 12), torch.zeros(5, 7, dtype=torch.bool)
    padding[0, 5:] = True
    codes = torch.stack([torch.randint(0, s, (5,)) for s in CONFIG.code_sizes], dim=1)
    with torch.no_grad():
        forced = model(memory, padding, codes)
        state, last = model.start(memory, padding), None
        for depth in range(len(CONFIG.code_sizes)):
            log_probs, state = model.step(state, last, depth)
            torch.testing.assert_close(log_probs, torch.log_softmax(forced[depth], -1), atol=1e-5, rtol=1e-5)
            last = codes[:, depth]


def test_a_few_codes_can_be_memorized():
    torch.manual_seed(0)
    model = CodeDecoder(CONFIG)
    memory, padding = torch.randn(6, 4, 12), torch.zeros(6, 4, dtype=torch.bool)
    codes = torch.stack([torch.randint(0, s, (6,)) for s in CONFIG.code_sizes], dim=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = float(model.loss(memory, padding, codes).detach())
    for _ in range(150):
        loss = model.loss(memory, padding, codes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.1 * first
