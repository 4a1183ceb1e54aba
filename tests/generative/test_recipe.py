"""``evidence_columns``: which plan columns a recipe's model reads; ``from_settings``: --set overrides."""

from __future__ import annotations

import pytest

from onesearch.decoding.planned import DENSE
from onesearch.errors import DataError
from onesearch.evidence.plan import CO_BUY, EVIDENCE, SHAPE
from onesearch.generative.recipe import AnchoredRecipe, evidence_columns

BEFORE_SWITCHES = (
    "bm25_share", "bm25_log", "bm25_reciprocal_rank", "term_coverage", "phrase_match", "ngram_share", "ngram_reciprocal_rank",
    "user_count", "user_recency", "user_click", "user_cart", "user_order", "user_leaf_share", "user_brand_share", "next_item", "next_item_rank",
    "dense_reciprocal_rank", "fused_rank",
)


def _names(recipe: AnchoredRecipe) -> tuple[str, ...]:
    names = (*EVIDENCE, *DENSE)
    return tuple(names[i] for i in evidence_columns(recipe))


def test_with_the_switches_off_a_model_reads_the_columns_of_the_models_trained_before_them():
    assert _names(AnchoredRecipe(pair_coverage=False, log_ranks=False, shape_columns=False, co_buy=False)) == BEFORE_SWITCHES


def test_the_switches_add_their_columns_in_place():
    both = _names(AnchoredRecipe(pair_coverage=True, log_ranks=True, preceders=True, shape_columns=True, co_buy=True))
    assert both == (*EVIDENCE, *DENSE)
    pairs = _names(AnchoredRecipe(pair_coverage=True, log_ranks=False))
    assert "bigram_coverage" in pairs and not any(name.endswith("log_rank") for name in pairs)


def test_a_saved_recipe_without_a_later_field_reads_it_at_its_value_before_the_field():
    from dataclasses import asdict

    older = {k: v for k, v in asdict(AnchoredRecipe()).items() if k not in ("shape_columns", "lambda_weight", "co_buy", "gain_power")}
    recipe = AnchoredRecipe.saved(older)
    assert (recipe.shape_columns, recipe.lambda_weight, recipe.co_buy) == (False, 0.0, False) and not set(_names(recipe)) & {*SHAPE, *CO_BUY}
    assert AnchoredRecipe.saved(asdict(AnchoredRecipe())) == AnchoredRecipe()


def test_without_a_dense_plan_no_dense_column_is_read():
    assert not set(_names(AnchoredRecipe(dense_plan=0, log_ranks=True))) & set(DENSE)


def test_settings_are_toml_values_and_an_unknown_key_is_one_clear_error():
    recipe = AnchoredRecipe.from_settings(["epochs=2", "lexical_plan=false", "learning_rate=1e-3"])
    assert (recipe.epochs, recipe.lexical_plan, recipe.learning_rate) == (2, False, 1e-3)
    assert recipe.fingerprint() != AnchoredRecipe().fingerprint()
    with pytest.raises(DataError, match="epocs"):
        AnchoredRecipe.from_settings(["epocs=2"])
    with pytest.raises(DataError, match="KEY=VALUE"):
        AnchoredRecipe.from_settings(["epochs"])


def test_a_recipe_without_a_preference_stage_hashes_as_before_and_the_stage_starts_from_it():
    staged = AnchoredRecipe.from_settings(["preference=2000", 'preference_loss="dpo"', "dpo_beta=0.5", "epochs=4"])
    assert staged.supervised() == AnchoredRecipe(epochs=4)
    assert staged.supervised().fingerprint() == AnchoredRecipe(epochs=4).fingerprint() != staged.fingerprint()
    assert AnchoredRecipe(dpo_beta=0.5).fingerprint() == AnchoredRecipe().fingerprint()  # stage fields count only with the stage
    with pytest.raises(DataError, match="preference_loss='ppo'"):
        AnchoredRecipe.from_settings(['preference_loss="ppo"'])


def test_the_full_query_encoder_hashes_as_recipes_did_before_the_switch_and_an_unknown_one_is_refused():
    import hashlib
    import json
    from dataclasses import asdict, replace

    full = replace(AnchoredRecipe(), query_encoder="full", pick_beam=False, lambda_weight=0.0, shape_columns=False, co_buy=False)
    before = {k: v for k, v in asdict(full).items() if k not in ("query_encoder", "static_find_weight", "weight_decay", "ema", "recency_decay", "preceders", "pick_beam", "lambda_weight", "shape_columns", "co_buy", "gain_power") and not k.startswith(("preference", "dpo_"))}
    assert full.fingerprint() == hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:10]
    assert replace(full, query_encoder="static").fingerprint() != full.fingerprint() != replace(full, static_find_weight=0.25).fingerprint()
    with pytest.raises(DataError, match="query_encoder='onnx'"):
        AnchoredRecipe.from_settings(['query_encoder="onnx"'])
