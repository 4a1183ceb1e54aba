#!/usr/bin/env bash
# Semantic-id ablation on one task: RQ only -> + keywords -> + balanced last level -> + OPQ.
# Usage: bash configs/index_ablation.sh TASK [extra `onesearch index build` options, e.g. --encoder minilm]
# Writes runs/index/TASK-{rq,kw,kw-bal,kw-bal-opq} and prints the comparison table.
set -euo pipefail
task="$1"; shift
bin="${ONESEARCH:-.venv/bin/onesearch}"
"$bin" index build --task "$task" --out "runs/index/$task-rq" --no-keywords --no-balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw" --keywords --no-balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw-bal" --keywords --balanced --opq 0 "$@" >/dev/null
"$bin" index build --task "$task" --out "runs/index/$task-kw-bal-opq" --keywords --balanced --opq 2 "$@" >/dev/null
"$bin" index compare "runs/index/$task-rq" "runs/index/$task-kw" "runs/index/$task-kw-bal" "runs/index/$task-kw-bal-opq"
