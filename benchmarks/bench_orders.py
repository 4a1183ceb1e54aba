"""What order diagnosis costs: fitting on Amazon India's training months, diagnosing a day's batch.

    .venv/bin/python benchmarks/bench_orders.py [--repeats 3] [--batch 1000] [--out runs/bench/orders.json]

1. **Fit.** Seconds of ``Diagnoser.fit`` on the orders before 2022-06-01 (the time split's train).
2. **Diagnose.** Orders/s of ``Diagnoser.diagnose`` (features, stacked scores, reasons, ship-first
   list) on ``--batch`` June orders, the rest of the data as context; and of
   ``diagnose_records`` (the service's path: generic lines as records, checked first).

Each figure is the median of ``--repeats`` runs; the machine is printed with it. The last line is JSON.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

from _machine import machine, write_result
from onesearch.orders.model import Diagnoser
from onesearch.orders.readers import read_source
from onesearch.orders.schema import lines_to_orders


def _median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    source = read_source("amazon-india", args.data)
    orders = lines_to_orders(source.lines)
    train = orders[orders["ordered_at"] < pd.Timestamp("2022-06-01")].reset_index(drop=True)
    batch = orders[orders["ordered_at"] >= pd.Timestamp("2022-06-01")].head(args.batch).reset_index(drop=True)
    fitted: list[Diagnoser] = []
    fit_s = _median_seconds(lambda: fitted.append(Diagnoser.fit(train, context=orders)), args.repeats)
    model = fitted[-1]
    diagnose_s = _median_seconds(lambda: model.diagnose(batch, orders), args.repeats)
    records = source.lines[source.lines["order_id"].isin(batch["order_id"])].drop(columns=["problem"])
    records = records.assign(ordered_at=records["ordered_at"].dt.strftime("%Y-%m-%d")).to_dict("records")
    service_s = _median_seconds(lambda: model.diagnose_records(records), args.repeats)
    result = {"machine": machine(), "train_orders": len(train), "batch": len(batch), "fit_s": round(fit_s, 2),
              "diagnose_orders_per_s": round(len(batch) / diagnose_s, 1), "records_orders_per_s": round(len(batch) / service_s, 1)}
    print(f"{machine()}\nfit on {len(train):,} orders: {fit_s:.1f} s (median of {args.repeats})\n"
          f"diagnose {len(batch):,} orders: {result['diagnose_orders_per_s']:,.0f} orders/s; "
          f"as the service's records: {result['records_orders_per_s']:,.0f} orders/s")
    write_result(result, args.out)


if __name__ == "__main__":
    main()
