#!/usr/bin/env bash
# Instacart generative searcher: the base recipe, base + the matched-behaviour view, ablations of
# the base, and one side-by-side test run with bm25 and the cascade. Models that already exist are not retrained (delete the folder to redo).
# Frozen-encoder outputs are cached, so every run after the first skips the text encoder.
# Usage: bash configs/generative/instacart_ablations.sh [ABLATION ...]   (default: all)
#        TRAIN_ONLY=1 bash configs/generative/instacart_ablations.sh ...  (train, skip the eval)
set -euo pipefail
bin="${ONESEARCH:-.venv/bin/onesearch}"
recipe=configs/generative/instacart.toml
declare -A settings=(
  [base]=""
  [matched]="--set views.matched_items=10"
  [nobehaviour]="--set views.user_id=false --set views.short_term=false --set views.long_term=false"
  [noshort]="--set views.short_term=false"
  [nolong]="--set views.long_term=false"
  [nostage1]="--set train.align_epochs=0"
  [noquerycode]="--set views.query_code=false"
  [noopq]="--set index=runs/index/instacart-kw-bal"
  [nokeywords]="--set index=runs/index/instacart-bal-opq"
)
order=(base matched nobehaviour noshort nolong nostage1 noquerycode noopq nokeywords)
chosen=("${@:-${order[@]}}")
searchers=()
for name in "${chosen[@]}"; do
  [[ -v "settings[$name]" ]] || { echo "unknown ablation $name: one of ${order[*]}" >&2; exit 2; }
  if [[ $name == nokeywords && ! -d runs/index/instacart-bal-opq ]]; then
    "$bin" index build --task instacart --out runs/index/instacart-bal-opq --no-keywords --balanced --opq 2 >/dev/null
  fi
  out="runs/models/instacart-gen-$name"
  # shellcheck disable=SC2086
  [[ -f $out/manifest.json ]] || "$bin" train --config "$recipe" --out "$out" ${settings[$name]}
  searchers+=(--searcher "$name=$out")
done
[[ -n ${TRAIN_ONLY:-} ]] && exit 0
"$bin" eval --task instacart --split test --searcher bm25 "${searchers[@]}" --searcher cascade --beam 50 --out runs/eval/instacart-test-generative
