#!/usr/bin/env bash
# First generative-searcher run on Home Depot (issue 6, in progress): exact commands behind the
# numbers in the notes. Needs `onesearch eval --task homedepot ...` (dual encoder) and
# `bash configs/index_ablation.sh homedepot` (codebook runs/index/homedepot-kw-bal-opq) first.
#
# Trained on a rented H100 (4,700 examples/s; the same command runs on CPU, far slower):
#   .venv/bin/onesearch train --task homedepot --index runs/index/homedepot-kw-bal-opq \
#       --out runs/models/homedepot-gen-e24 --encoder runs/cache/homedepot-0286b9ceac17/dual-encoder \
#       --epochs 24 --batch-size 256 --d-model 256 --layers 4
# The 8-epoch row of the notes is the same command with --epochs 8 --out runs/models/homedepot-gen-e8.
# (On the GPU machine the encoder travelled as a float16 copy and the codebook as its codes only;
# the manifests' "index" was then pointed back at runs/index/homedepot-kw-bal-opq.)
set -euo pipefail
bin="${ONESEARCH:-.venv/bin/onesearch}"
"$bin" eval --task homedepot --split valid --limit 300 --searcher bm25 --searcher generative --searcher hybrid --searcher cascade \
    --model runs/models/homedepot-gen-e24 --model-encoder runs/cache/homedepot-0286b9ceac17/dual-encoder \
    --beam 50 --out runs/eval/homedepot-valid-gen-e24
