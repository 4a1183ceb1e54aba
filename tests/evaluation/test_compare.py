import numpy as np
import pytest

from onesearch.evaluation.compare import paired_comparison


def test_identical_searchers_differ_by_nothing():
    scores = np.linspace(0, 1, 50)
    c = paired_comparison(scores, scores)
    assert c["diff"] == 0.0 and c["ci_low"] == 0.0 and c["ci_high"] == 0.0
    assert c["p_value"] == 1.0


def test_consistent_gain_is_significant_and_inside_the_interval():
    rng = np.random.default_rng(1)
    base = rng.random(200)
    better = base + 0.1 + rng.normal(0, 0.01, 200)
    c = paired_comparison(base, better)
    assert c["diff"] == pytest.approx(0.1, abs=0.01)
    assert c["ci_low"] > 0.09 and c["ci_high"] < 0.11
    assert c["p_value"] < 0.001


def test_noise_is_not_significant():
    rng = np.random.default_rng(2)
    base = rng.random(100)
    c = paired_comparison(base, base + rng.normal(0, 0.1, 100) * rng.choice([-1, 1], 100))
    assert c["ci_low"] < 0 < c["ci_high"]
    assert c["p_value"] > 0.05


def test_unpaired_input_is_refused():
    with pytest.raises(ValueError):
        paired_comparison(np.zeros(3), np.zeros(4))
