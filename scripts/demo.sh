#!/usr/bin/env bash
# `make demo`: train XLTT on the bundled fixtures (tiny random XLM-R), evaluate it on the
# MLQA- and XQuAD-style fixture files, predict one file, and print a per-language EM/F1 table.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-demo_out}
ALLENNLP=.venv/bin/allennlp
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== train training_config/xltt_tiny.jsonnet -> $OUT/model"
$ALLENNLP train training_config/xltt_tiny.jsonnet -s "$OUT/model" --file-friendly-logging \
  > "$OUT/train.log" 2>&1 || { tail -30 "$OUT/train.log"; exit 1; }
EVAL_FILES=(
  fixtures/data/mlqa/dev-context-en-question-en.json
  fixtures/data/mlqa/test-context-hi-question-hi.json
  fixtures/data/mlqa/test-context-de-question-en.json
  fixtures/data/xquad/xquad.ar.json
  fixtures/data/xquad/xquad.th.json
)
for file in "${EVAL_FILES[@]}"; do
  name=$(basename "$file" .json)
  echo "== evaluate $file"
  $ALLENNLP evaluate "$OUT/model/model.tar.gz" "$file" --output-file "$OUT/metrics.$name.json" \
    > "$OUT/evaluate.$name.log" 2>&1 || { tail -30 "$OUT/evaluate.$name.log"; exit 1; }
done
echo "== predict fixtures/data/xquad/xquad.ar.json -> $OUT/predictions.xquad.ar.json"
$ALLENNLP predict "$OUT/model/model.tar.gz" fixtures/data/xquad/xquad.ar.json \
  --output-file "$OUT/predictions.xquad.ar.json" --silent > "$OUT/predict.log" 2>&1 \
  || { tail -30 "$OUT/predict.log"; exit 1; }
echo "== xltt-score (official MLQA rules) of those predictions"
$ALLENNLP xltt-score fixtures/data/xquad/xquad.ar.json "$OUT/predictions.xquad.ar.json" 2>/dev/null
echo
.venv/bin/python scripts/metrics_table.py "$OUT"/metrics.*.json
