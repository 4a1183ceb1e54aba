"""``onesearch data export``: a data set written as a generic shop reads back as the same items."""

from __future__ import annotations

from onesearch.catalog import registry


def test_an_exported_shop_reads_back_the_same_items(tiny_shop, tmp_path, cli):
    out = tmp_path / "again"
    code, stdout, err = cli(["data", "export", "generic", "--source", str(tiny_shop), "--out", str(out)])
    assert code == 0, err
    said = " ".join(stdout.split())
    assert "items.csv 192 rows" in said and "interactions.csv" in said
    before = registry.load("generic", tiny_shop, source=tiny_shop)
    after = registry.load("generic", out, source=out)
    fields = ("item_id", "title", "brand", "category", "price")
    assert [{k: i[k] for k in fields} for i in after.items.to_pylist()] == [{k: i[k] for k in fields} for i in before.items.to_pylist()]
    assert after.interactions.num_rows == before.interactions.num_rows
    assert after.examples.num_rows == before.examples.num_rows
