import numpy as np

from onesearch.semantic_ids.rq_kmeans import balanced_assign, fit_residual_kmeans


def _blobs(n=600, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, d)) * 4
    return (centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d))).astype(np.float32)


def test_fit_is_deterministic_and_encode_reproduces_training_codes():
    x = _blobs()
    model, codes, residual = fit_residual_kmeans(x, (8, 4), seed=3)
    _, again, _ = fit_residual_kmeans(x, (8, 4), seed=3)
    np.testing.assert_array_equal(codes, again)
    encoded, encoded_residual = model.encode(x)
    np.testing.assert_array_equal(encoded, codes)
    np.testing.assert_allclose(encoded_residual, residual, atol=1e-5)
    # each level explains part of the vectors: the residual is smaller than the input
    assert np.linalg.norm(residual) < 0.5 * np.linalg.norm(x)


def test_balanced_last_level_uses_local_indices_within_capacity():
    x = _blobs()
    model, codes, _ = fit_residual_kmeans(x, (4, 8), balanced_last=True, seed=0)
    assert codes[:, 1].min() >= 0 and codes[:, 1].max() < 8
    for parent in np.unique(codes[:, 0]):
        members = codes[codes[:, 0] == parent, 1]
        capacity = -(-len(members) // len(model.parent_codebooks[(int(parent),)]))
        assert np.bincount(members).max() <= capacity
    new, _ = model.encode(x[:10] + 0.01)
    assert new.shape == (10, 2) and new[:, 1].max() < 8


def test_balanced_assign_fills_every_row_and_respects_capacity():
    # Five points all nearest to centroid 0; capacity ceil(5 / 2) = 3, so two go to centroid 1.
    x = np.array([[0.0], [0.1], [0.2], [0.3], [0.4]], dtype=np.float32)
    centroids = np.array([[0.0], [10.0]], dtype=np.float32)
    codes = balanced_assign(x, centroids)
    assert codes.tolist() == [0, 0, 0, 1, 1]
