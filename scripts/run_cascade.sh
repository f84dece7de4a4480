#!/usr/bin/env bash
# The Table 8 baseline "XLM-R (w/ SQuAD, CMRC2018, DRCD)" trained "in cascading way" (paper
# §5.6): one `allennlp train` of training_config/xlmr_cascade.jsonnet per stage, each stage
# starting from the previous stage's model.tar.gz (XLTT_INIT_WEIGHTS).
#
#   scripts/run_cascade.sh OUT [STAGE ...]      (default stages: squad cmrc2018 drcd)
#
# Stage N trains into OUT/N-STAGE; a stage whose model.tar.gz exists is kept (a stopped chain
# resumes with the next stage). The last stage's OUT/3-drcd/model.tar.gz is the baseline.
# XLTT_DATA, XLTT_ENCODER, XLTT_CUDA_DEVICE, XLTT_DEV and XLTT_LANGS apply to every
# stage; ALLENNLP (default .venv/bin/allennlp) is the command; XLTT_TRAIN_OVERRIDES, a JSON
# string, is passed to every stage as `-o`.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: scripts/run_cascade.sh OUT [STAGE ...]   (stages: squad cmrc2018 drcd)" >&2
  exit 2
fi
out=$1
shift
if [[ $# -gt 0 ]]; then stages=("$@"); else stages=(squad cmrc2018 drcd); fi
allennlp=${ALLENNLP:-.venv/bin/allennlp}
overrides=${XLTT_TRAIN_OVERRIDES:-}
config=training_config/xlmr_cascade.jsonnet

previous=""
index=0
for stage in "${stages[@]}"; do
  index=$((index + 1))
  dir="$out/$index-$stage"
  if [[ -f "$dir/model.tar.gz" ]]; then
    echo "cascade: stage $index ($stage) already trained: $dir/model.tar.gz" >&2
  else
    echo "cascade: stage $index ($stage) from ${previous:-the pretrained encoder} -> $dir" >&2
    args=(train "$config" -s "$dir")
    if [[ -n "$overrides" ]]; then args+=(-o "$overrides"); fi
    XLTT_CASCADE_STAGE="$stage" XLTT_INIT_WEIGHTS="$previous" "$allennlp" "${args[@]}"
  fi
  previous="$dir/model.tar.gz"
done
echo "cascade: done: $previous" >&2
