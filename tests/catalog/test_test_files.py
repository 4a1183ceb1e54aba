"""``--test-file``: an external file in a task's raw format becomes the whole test split, and
whatever shares its queries or users leaves train/valid."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from onesearch.catalog import registry
from onesearch.errors import DataError


def _split(dataset, split):
    return dataset.examples.filter(pc.equal(dataset.examples["split"], split)).to_pylist()


def _outside_test(dataset, key):
    """Values of ``key`` (query or user_id) left in train/valid."""
    return {e[key] for e in dataset.examples.to_pylist() if e["split"] != "test"}


@pytest.mark.slow
def test_homedepot_pairs_file(shared_data, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("id,product_uid,product_title,search_term,relevance\n1,100001,x,Angle  Bracket,3\n2,100002,y,deck stain,1.67\n3,100001,x,deck stain,2.5\n")
    dataset = registry.load("homedepot", shared_data, test_file=path)
    test = _split(dataset, "test")
    assert sorted(e["query"] for e in test) == ["angle bracket", "deck stain"]
    deck = next(e for e in test if e["query"] == "deck stain")
    assert deck["targets"] == [
        {"item_id": "100001", "gain": 1.5, "relevant": True},
        {"item_id": "100002", "gain": pytest.approx(0.67), "relevant": False},
    ]
    assert not {"angle bracket", "deck stain"} & _outside_test(dataset, "query")


@pytest.mark.slow
def test_homedepot_pairs_file_with_unknown_product(shared_data, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("product_uid,search_term,relevance\n100001,a,3\n999,b,2\n")
    with pytest.raises(DataError, match=r"pairs.csv: row 2: column 'product_uid': '999' is not in the catalog"):
        registry.load("homedepot", shared_data, test_file=path)


@pytest.mark.slow
def test_instacart_order_lines_file(shared_data, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,add_to_cart_order,reordered\n"
        "0,900001,1,1,2,8,,196,1.0,0.0\n1,900002,1,2,3,8,7.0,196,1.0,1.0\n2,900002,1,2,3,8,7.0,14084,2.0,0.0\n"
    )
    dataset = registry.load("instacart", shared_data, test_file=path)
    test = _split(dataset, "test")
    assert {(e["user_id"], e["history_end"]) for e in test} == {("1", 2)}
    assert "1" not in _outside_test(dataset, "user_id")
    lines = dataset.interactions.filter(pc.equal(dataset.interactions["user_id"], "1")).to_pylist()
    assert [(l["seq"], l["item_id"], l["time"]) for l in lines] == [(1, "196", 0.0), (2, "196", 7.0), (2, "14084", 7.0)]


@pytest.mark.slow
def test_recbole_inter_file(shared_data, tmp_path):
    path = tmp_path / "x.inter"
    path.write_text("user_id:token\titem_id_list:token_seq\titem_id:token\n0\t0 1\t2\n")
    dataset = registry.load("amazon-scientific", shared_data, test_file=path)
    (test,) = _split(dataset, "test")
    assert (test["user_id"], [e["item_id"] for e in test["history"]]) == ("A1AXCV2WYDA4PD", ["B00O47ILVA", "B006ATU73A"])
    assert "A1AXCV2WYDA4PD" not in _outside_test(dataset, "user_id")
    path.write_text("user_id:token\titem_id_list:token_seq\titem_id:token\n0\t0 1\t99999\n")
    with pytest.raises(DataError, match=r"x.inter: row 1: item index '99999' is not in the catalog"):
        registry.load("amazon-scientific", shared_data, test_file=path)


@pytest.mark.slow
def test_minionerec_csv_file(shared_data, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('user_id,history_item_title,item_title,history_item_id,item_id\nNEW,"[\'a\', \'b\']",c,"[1, 2]",3\n')
    dataset = registry.load("amazon-industrial", shared_data, test_file=path)
    (test,) = _split(dataset, "test")
    assert ([e["item_id"] for e in test["history"]], test["targets"][0]["item_id"]) == (["1", "2"], "3")
    path.write_text("user_id,history_item_id,item_id\nNEW,[1],3\n")
    with pytest.raises(DataError, match="missing column"):
        registry.load("amazon-industrial", shared_data, test_file=path)


def test_task_without_test_files_and_unknown_name(shared_data, tmp_path):
    with pytest.raises(DataError, match="unknown data set 'nope'; known: homedepot"):
        registry.load("nope", shared_data)
    (tmp_path / "f.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match="takes no --test-file"):
        registry.load("flipkart", shared_data, test_file=tmp_path / "f.csv")


@pytest.mark.slow
def test_trained_artifacts_are_keyed_by_train_and_valid_data_not_by_the_test_file(shared_data, tmp_path):
    base = registry.load("homedepot", shared_data)
    fresh = tmp_path / "fresh.csv"  # a query no train/valid example has: train and valid are unchanged
    fresh.write_text("product_uid,search_term,relevance\n100001,zz unseen query zz,3\n")
    assert registry.load("homedepot", shared_data, test_file=fresh).training_fingerprint() == base.training_fingerprint()
    leaking = tmp_path / "leaking.csv"  # a train query: it leaves train, so the models must differ
    leaking.write_text(f"product_uid,search_term,relevance\n100001,{_split(base, 'train')[0]['query']},3\n")
    assert registry.load("homedepot", shared_data, test_file=leaking).training_fingerprint() != base.training_fingerprint()
