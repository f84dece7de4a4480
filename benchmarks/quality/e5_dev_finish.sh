#!/usr/bin/env bash
# Issue 16, settings checked on the development split (training articles 30-35, never the test
# articles): collect the dev runs into git (benchmarks/quality/results/e5-dev/), write the
# xltt-report table and chart there, and compare, per system S (a, b, c), every tagged variant
# (`run.py --dev-articles 6 --tag T`: unfrozen, lr2e-4, ...) with S's reference run (frozen word
# embeddings, lr 1e-4, no tag), over the languages S did not train on (a: 11, b and c: 9):
# report/compare_S-T_minus_S.mlqa.md.
#     bash benchmarks/quality/e5_dev_finish.sh [--no-commit]
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/quality/e5_common.sh
OUT=${E5_DEV_OUT:-benchmarks/out/quality-e5-dev}
DEST=${E5_DEV_DEST:-benchmarks/quality/results/e5-dev}
e5_collect "$OUT" "$DEST"
[ ${#runs[@]} -gt 0 ] || { echo "e5_dev_finish: no scored dev run in $DEST"; exit 1; }
e5_report "$DEST/report" \
  "XQuAD development articles (6 of the 36 training articles), multilingual-e5-small (4-bit, dequantised)" \
  "${runs[@]}"
for system in a_baseline_en b_translate_train c_xltt; do
  reference="$DEST/$system-seed13"
  [ -d "$reference" ] || continue
  unseen="ar hi vi zh el ru th tr ro"
  [ $system = a_baseline_en ] && unseen="$unseen es de"
  for run in "$DEST/$system"-*-seed13; do
    [ -d "$run" ] || continue
    name=$(basename "${run%-seed13}")_minus_$system
    e5_compare "$DEST/report/compare_$name.mlqa.md" "$reference" "$run" mlqa "$OUT/data/test" \
      "$unseen"
  done
done
e5_commit "$DEST" "quality-e5 dev-split results" "${1:-}"
