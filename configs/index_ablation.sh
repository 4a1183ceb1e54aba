#!/usr/bin/env bash
# Semantic-id ablation on one task, on the paper's 256-64-32 levels: RQ only -> + keywords ->
# + balanced last level -> + OPQ; then the default, sized to the catalog (what the model trains on).
# Usage: bash configs/index_ablation.sh TASK [extra `onesearch index build` options, e.g. --encoder minilm]
# Writes runs/index/TASK-{rq,kw,kw-bal,kw-bal-opq,default} and prints the comparison table.
set -euo pipefail
task="$1"; shift
bin="${ONESEARCH:-.venv/bin/onesearch}"
paper=(--levels 256,64,32)
"$bin" index build --task "$task" --out "runs/index/$task-rq" "${paper[@]}" --no-keywords --no-balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw" "${paper[@]}" --keywords --no-balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw-bal" "${paper[@]}" --keywords --balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw-bal-opq" "${paper[@]}" --keywords --balanced --opq 2 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-default" "$@" >/dev/null
"$bin" index compare "runs/index/$task-rq" "runs/index/$task-kw" "runs/index/$task-kw-bal" "runs/index/$task-kw-bal-opq" "runs/index/$task-default"
