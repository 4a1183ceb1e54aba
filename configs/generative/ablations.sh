#!/usr/bin/env bash
# Generative-searcher ablations of one task: the task's base recipe, variants that each change one
# thing with `--set`, and one side-by-side test run with bm25 and the cascade. Models that already
# exist are not retrained (delete the folder to redo). Frozen-encoder outputs are cached, so a
# variant with the same training texts skips the text encoder.
# Usage: bash configs/generative/ablations.sh TASK [ABLATION ...]   (TASK: instacart | homedepot; default: all)
#        TRAIN_ONLY=1 bash configs/generative/ablations.sh TASK ...  (train, skip the eval)
set -euo pipefail
bin="${ONESEARCH:-.venv/bin/onesearch}"
task="${1:?usage: ablations.sh TASK [ABLATION ...]}"
shift
declare -A settings
case "$task" in
  instacart)
    recipe=configs/generative/instacart.toml prefix=instacart-gen
    settings=(
      [base]=""
      [matched]="--set views.matched_items=10"
      [nobehaviour]="--set views.user_id=false --set views.short_term=false --set views.long_term=false"
      [noshort]="--set views.short_term=false"
      [nolong]="--set views.long_term=false"
      [nostage1]="--set train.align_epochs=0"
      [noquerycode]="--set views.query_code=false"
      [noopq]="--set index=runs/index/instacart-kw-bal"
      [nokeywords]="--set index=runs/index/instacart-bal-opq"
      [category]="--set category_queries=true"
    )
    order=(base matched nobehaviour noshort nolong nostage1 noquerycode noopq nokeywords category) ;;
  homedepot)  # no users and no categories in Home Depot: no behaviour or category ablations
    recipe=configs/generative/homedepot-cpu.toml prefix=homedepot-cpu
    settings=(
      [base]=""
      [nostage1]="--set train.align_epochs=0"
      [noquerycode]="--set views.query_code=false"
      [noopq]="--set index=runs/index/homedepot-kw-bal"
      [nokeywords]="--set index=runs/index/homedepot-bal-opq"
      [scratch]="--set encoder=scratch"
    )
    order=(base nostage1 noquerycode noopq nokeywords scratch) ;;
  *) echo "unknown task $task: instacart or homedepot" >&2; exit 2 ;;
esac
chosen=("${@:-${order[@]}}")
searchers=()
for name in "${chosen[@]}"; do
  [[ -v "settings[$name]" ]] || { echo "unknown ablation $name for $task: one of ${order[*]}" >&2; exit 2; }
  if [[ $name == nokeywords && ! -d runs/index/$task-bal-opq ]]; then
    "$bin" index build --task "$task" --out "runs/index/$task-bal-opq" --no-keywords --balanced --opq 2 >/dev/null
  fi
  out="runs/models/$prefix-$name"
  # shellcheck disable=SC2086
  [[ -f $out/manifest.json ]] || "$bin" train --config "$recipe" --out "$out" ${settings[$name]}
  searchers+=(--searcher "$name=$out")
done
[[ -n ${TRAIN_ONLY:-} ]] && exit 0
"$bin" eval --task "$task" --split test --searcher bm25 "${searchers[@]}" --searcher cascade --beam 50 --out "runs/eval/$task-test-generative"
