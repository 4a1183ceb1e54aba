"""Which prior ranks the products new to a user best: train popularity, other buyers or co-buyers.

On the valid examples whose relevant targets are all new to the user (none in the history), each
example's candidates are the items of its first target's leaf category (on Instacart: the aisle
the query names) that the user never touched and some train user did. Each prior orders them and
HR@10 counts an example whose top 10 holds a target: ``popularity`` (train examples naming the
item), ``buyers`` (other train users who touched it) and ``co_buy`` (``evidence.cobuy.CoBuyers``,
what the plan's ``co_buy`` column reads). Not a timing: the offline check that picked the idea.
Usage:

    .venv/bin/python benchmarks/probe_co_buy.py --task instacart
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from onesearch.catalog import registry
from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import examples_of
from onesearch.cli.data import data_root
from onesearch.evidence.items import ItemTable, train_popularity
from onesearch.evidence.tokenize import Tokenizer
from onesearch.training.examples import co_buyers_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    dataset = registry.load(args.task, data_root(args.data))
    items = ItemTable.from_items(dataset.items, Tokenizer("en"))
    examples = list(examples_of(dataset.examples))
    train = [e for e in examples if e.split == "train"]
    popularity, co_buyers = train_popularity(items, train), co_buyers_of(items, train)
    if co_buyers is None:
        raise SystemExit(f"{args.task}: no train example names its user, so there are no co-buyers")
    resolver = ContextResolver(dataset)
    hits: dict[str, list[bool]] = {"popularity": [], "buyers": [], "co_buy": []}
    for example in (e for e in examples if e.split == "valid"):
        targets = {items.row_of[t.item_id] for t in example.targets if t.relevant and t.item_id in items.row_of}
        history = {items.row_of[e.item_id] for e in resolver.request(example).user.history if e.item_id in items.row_of}
        if not targets or targets & history:
            continue
        co = co_buyers.scores(sorted(history), example.user_id)
        candidates = np.flatnonzero(items.leaf == items.leaf[min(targets)])
        candidates = candidates[~np.isin(candidates, list(history)) & (co_buyers.buyers(candidates, None) > 0)]
        buyers = np.zeros(len(items), dtype=np.float32)
        buyers[candidates] = co_buyers.buyers(candidates, example.user_id)
        for name, prior in (("popularity", popularity), ("buyers", buyers), ("co_buy", co)):
            top = candidates[np.argsort(-prior[candidates], kind="stable")[:10]]
            hits[name].append(bool(targets & set(top.tolist())))
    print(f"{args.task} valid, examples whose targets are all new to the user: {len(hits['co_buy'])}")
    print("| prior | HR@10 among the leaf's untouched items |\n|---|---|")
    for name, values in hits.items():
        print(f"| {name} | {np.mean(values):.4f} |")


if __name__ == "__main__":
    main()
