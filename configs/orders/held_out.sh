#!/usr/bin/env bash
# A stand-in for the unseen fifth of Amazon India: a fixed fifth of the distributed orders (by a
# hash of the order id, over all dates), written as a raw export and evaluated as --test-file.
# The file starts with the data, so eval time-splits it (its June orders are the test set) and
# trains on the other orders before June. Usage: bash configs/orders/held_out.sh [DATA_ROOT]
set -euo pipefail
data=${1:-../shared/data}
mkdir -p runs/orders
.venv/bin/python - "$data" <<'PY'
import hashlib, sys
import pandas as pd
raw = pd.read_csv(f"{sys.argv[1]}/orders/amazon_india/orders.csv.gz", dtype=str, keep_default_na=False)
fifth = raw["Order ID"].map(lambda v: int(hashlib.md5(v.encode()).hexdigest()[:6], 16) % 5 == 0)
raw[fifth].to_csv("runs/orders/held-out.csv.gz", index=False)
PY
.venv/bin/onesearch orders eval --data amazon-india --data-root "$data" --test-file runs/orders/held-out.csv.gz --resamples 200 --out runs/orders/amazon-india-held-out
