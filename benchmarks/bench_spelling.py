"""How much of a seeded misspelled copy of a split's queries the catalog speller restores.

    .venv/bin/python benchmarks/bench_spelling.py --task homedepot --split valid --seed 0

Counts distinct queries whose misspelled form corrects to the same text as the clean form
corrects to ("restored"), and clean queries the speller changes at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from onesearch.catalog import registry
from onesearch.catalog.schema import examples_of
from onesearch.catalog.typos import misspell
from onesearch.evidence.items import ItemTable
from onesearch.evidence.spelling import Speller
from onesearch.evidence.tokenize import Tokenizer, detect_language


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="homedepot")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    dataset = registry.load(args.task, args.data)
    items = ItemTable.from_items(dataset.items, Tokenizer(detect_language(dataset.items["title"].to_pylist())))
    speller = Speller.from_texts(items.texts)
    queries = sorted({e.query for e in examples_of(dataset.examples) if e.split == args.split and e.query})
    restored = sum(speller.correct(misspell(q, args.seed)) == speller.correct(q) for q in queries)
    changed = sum(speller.correct(q) != q for q in queries)
    print(f"{args.task}/{args.split}: {len(queries)} queries; misspelled copy (seed {args.seed}) restored {restored} ({restored / len(queries):.1%}); "
          f"clean queries changed {changed} ({changed / len(queries):.1%})")


if __name__ == "__main__":
    main()
