#!/usr/bin/env bash
# The anchored, planned generative searcher of a task and its ablations, scored on test in one
# `onesearch eval` run with the cascade first (every row gets a paired CI against the cascade).
#
#   bash configs/generative/anchored.sh TASK [VARIANT ...]        # default: base
#   ENCODER=minilm bash configs/generative/anchored.sh amazon-industrial base
#
# Variants (`--set`s on the default recipe, src/onesearch/generative/recipe.py):
#   base, noanchor (node vectors learned from a random start), nolexical (no lexical plan),
#   nobehaviour (no user / next-item / popularity evidence), noprefix (ranking loss at the item
#   depth only), untrained (epochs=0: the anchored, planned beam before any training),
#   nongrams (no character n-gram BM25), nouser (no behaviour vector in the decoder state),
#   querycorrection (with the learned A_d q term, off by default: it overfits the train queries),
#   nodense (no dense top items in the plan), nospelling (no query spelling correction),
#   denseevidence (the dense plan's items get the lexical and user evidence columns too),
#   nopairs (no word-pair coverage column: the previous default), logranks (log-scaled ranks too),
#   distill8k (8,000 pseudo-queries labelled by the task's cascade added to the train split),
#   distill (4,000 of them, and 12,000 examples per epoch so the real ones are not seen less often),
#   hidden64 (a 64-unit evidence MLP instead of 32), distill64 (distill with hidden64),
#   distill2k (2,000 pseudo-queries, 10,000 examples per epoch), distill1k (1,000 and 9,000), distill7 (distill for 7 epochs),
#   distill2k7 (distill2k for 7 epochs), distillhalf (distill with the teacher examples' loss weighted 0.5),
#   rn64 (64 random negatives per example instead of 1,000: the previous default), rn3k (3,000 of them),
#   seed1 (the default recipe with another seed), textquery (an empty query is encoded as text instead of
#   taking the user's behaviour vector: the previous default; only amazon-industrial has empty queries).
# Models land in runs/models/TASK-anchored-VARIANT$SUFFIX; the report in runs/eval/TASK-test-anchored.
# Extra eval options (e.g. --misspell 0, --exhaustive, --limit N) go in EVAL_ARGS, extra train
# options (e.g. --set epochs=6) in TRAIN_ARGS; SUFFIX (e.g. -rn64) ends the model
# folders' names, so models trained with other TRAIN_ARGS do not reuse (or get reused as) the default's.
set -euo pipefail
task=${1:?usage: anchored.sh TASK [VARIANT ...]}
shift
declare -A SETTING=(
  [base]="" [noanchor]="anchored=false" [nolexical]="lexical_plan=false" [nobehaviour]="behaviour_plan=false"
  [noprefix]="prefix_loss=false" [untrained]="epochs=0" [nongrams]="ngrams=false" [nouser]="user=false"
  [querycorrection]="query_correction=true" [nodense]="dense_plan=0" [nospelling]="spelling=false" [denseevidence]="dense_evidence=true"
  [nopairs]="pair_coverage=false" [logranks]="log_ranks=true" [distill8k]="distill=8000" [distill]="distill=4000 examples_per_epoch=12000"
  [hidden64]="hidden=64" [distill64]="distill=4000 examples_per_epoch=12000 hidden=64"
  [distill2k]="distill=2000 examples_per_epoch=10000" [distill1k]="distill=1000 examples_per_epoch=9000" [distill7]="distill=4000 examples_per_epoch=12000 epochs=7"
  [distill2k7]="distill=2000 examples_per_epoch=10000 epochs=7"
  [distillhalf]="distill=4000 examples_per_epoch=12000 distill_weight=0.5"
  [rn64]="random_negatives=64" [rn3k]="random_negatives=3000" [seed1]="seed=1" [textquery]="behaviour_query=false"
)
encoder=()
[[ -n "${ENCODER:-}" ]] && encoder=(--encoder "$ENCODER")
variants=("${@:-base}")
[[ $# -eq 0 ]] && variants=(base)
searchers=()
for variant in "${variants[@]}"; do
  [[ -v SETTING[$variant] ]] || { echo "unknown variant $variant" >&2; exit 2; }
  out="runs/models/$task-anchored-$variant${SUFFIX:-}"
  if [[ ! -f "$out/manifest.json" ]]; then
    setting=()
    for one in ${SETTING[$variant]}; do setting+=(--set "$one"); done
    # shellcheck disable=SC2086
    .venv/bin/onesearch train --task "$task" --out "$out" "${encoder[@]}" "${setting[@]}" ${TRAIN_ARGS:-}
  fi
  searchers+=(--searcher "$variant=$out")
done
name="${REPORT:-$task-test-anchored}"
# shellcheck disable=SC2086
.venv/bin/onesearch eval --task "$task" --split test --searcher cascade --searcher bm25 "${searchers[@]}" "${encoder[@]}" ${EVAL_ARGS:-} --out "runs/eval/$name"
