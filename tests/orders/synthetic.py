"""A synthetic shop with a planted signal: an order repeated the same day is usually cancelled."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_lines(orders: int = 3000, days: int = 60, seed: int = 0) -> pd.DataFrame:
    """Generic lines: one line per order; a tenth of the orders are repeated the same day, and
    the repeat is cancelled 70% of the time (other orders 8%)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for number in range(orders):
        row = {"order_id": f"o{number}", "ordered_at": start + pd.Timedelta(days=int(rng.integers(days))),
               "postal_code": f"{rng.integers(100, 400)}", "city": f"C{rng.integers(20)}", "region": f"R{rng.integers(5)}",
               "category": str(rng.choice(["shirt", "shoe", "hat"])), "variant": str(rng.choice(["S", "M", "L"])),
               "fulfilment": str(rng.choice(["shop", "market"])), "quantity": 1.0, "unit_price": float(rng.integers(5, 50))}
        row["problem"] = float(rng.random() < 0.08)
        rows.append(row)
        if rng.random() < 0.1:
            rows.append({**row, "order_id": f"o{number}r", "problem": float(rng.random() < 0.7)})
    lines = pd.DataFrame(rows)
    for column in ("customer_id", "channel", "service_level", "country", "business", "item_id"):
        lines[column] = None
    return lines
