import numpy as np

from onesearch.semantic_ids.codebook import CodebookConfig, SemanticIdCodebook, free_full_codes


def _vectors(n=800, d=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    x[1] = x[0]  # an exact duplicate must still get its own full id
    return x / np.linalg.norm(x, axis=1, keepdims=True)


CONFIG = CodebookConfig(levels=(8, 4, 4), balanced_last=True, opq_subcodes=2, opq_bits=4, seed=1)


def test_every_item_gets_exactly_one_full_id_and_the_maps_agree():
    x = _vectors()
    ids = [f"item{i}" for i in range(len(x))]
    codebook = SemanticIdCodebook.fit(x, ids, CONFIG)
    full = [codebook.full_id(i) for i in ids]
    assert len(set(full)) == len(ids)
    for item, code in zip(ids, full):
        members = codebook.items_of(code[:-1])
        assert members[code[-1]] == item
    assert codebook.codes.shape == (len(ids), 5)
    assert (codebook.codes.max(axis=0) < np.array(CONFIG.code_sizes)).all()


def test_encode_needs_no_refit_and_survives_save_load(tmp_path):
    x = _vectors()
    codebook = SemanticIdCodebook.fit(x, [str(i) for i in range(len(x))], CONFIG)
    fresh = _vectors(5, seed=9)
    codes = codebook.encode(fresh)
    codebook.save(tmp_path / "sid")
    loaded = SemanticIdCodebook.load(tmp_path / "sid")
    np.testing.assert_array_equal(loaded.encode(fresh), codes)
    np.testing.assert_array_equal(loaded.codes, codebook.codes)
    assert loaded.full_id("7") == codebook.full_id("7")


def test_rq_only_codes_and_determinism():
    x = _vectors()
    config = CodebookConfig(levels=(8, 4), balanced_last=False, opq_subcodes=0)
    a = SemanticIdCodebook.fit(x, [str(i) for i in range(len(x))], config)
    b = SemanticIdCodebook.fit(x, [str(i) for i in range(len(x))], config)
    np.testing.assert_array_equal(a.codes, b.codes)
    assert a.codes.shape[1] == 2 and a.opq is None


def test_new_items_take_the_smallest_free_suffix_and_none_when_the_code_is_full():
    taken = {(1, 2, 0), (1, 2, 2), (3, 3, 0), (3, 3, 1)}
    assert free_full_codes(np.array([[1, 2], [1, 2], [1, 2], [3, 3], [5, 5]]), taken, 3) == [(1, 2, 1), None, None, (3, 3, 2), (5, 5, 0)]
    assert taken == {(1, 2, 0), (1, 2, 2), (3, 3, 0), (3, 3, 1)}


def test_catalog_sized_levels_leave_about_sixteen_items_per_prefix_and_no_balanced_level():
    from onesearch.semantic_ids.codebook import CodebookConfig

    config = CodebookConfig.for_catalog(54_667)
    assert config.levels == (128, 32) and not config.balanced_last and config.opq_subcodes == 2
    assert 8 <= 54_667 / (config.levels[0] * config.levels[1]) <= 32
    assert CodebookConfig.for_catalog(200).opq_subcodes == 0
