#!/usr/bin/env bash
# Seconds from `onesearch demo` (empty cache) to the first 200 from POST /search; then stops it.
#   bash benchmarks/first_result.sh [TASK]        (default homedepot; uses /tmp/first-result-*)
set -euo pipefail
task=${1:-homedepot}
rm -rf /tmp/first-result-cache /tmp/first-result-demo
start=$(date +%s.%N)
.venv/bin/onesearch demo --task "$task" --cache /tmp/first-result-cache --out /tmp/first-result-demo --port 8765 > /tmp/first-result.log 2>&1 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  code=$(curl -s -o /dev/null -w "%{http_code}" -X POST localhost:8765/search -H 'content-type: application/json' \
    -d '{"query": "cordless drill", "k": 3, "searcher": "bm25"}' || true)
  if [[ "$code" == "200" ]]; then
    echo "first 200 from /search after $(echo "$(date +%s.%N) - $start" | bc) s"
    exit 0
  fi
  sleep 0.5
done
echo "no answer within 300 s (see /tmp/first-result.log)" >&2
exit 1
