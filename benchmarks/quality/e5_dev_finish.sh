#!/usr/bin/env bash
# Issue 16, settings checked on the development split (training articles 30-35, never the test
# articles): collect the dev runs of system (a) into git (benchmarks/quality/results/e5-dev/),
# write the xltt-report table and chart there, and compare every tagged variant
# (`run.py --dev-articles 6 --tag T`: unfrozen, lr2e-4, ...) with the reference run (frozen
# word embeddings, lr 1e-4, no tag), over the 11 languages (a) did not train on.
#     bash benchmarks/quality/e5_dev_finish.sh [--no-commit]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD
PY=.venv/bin/python
OUT=${E5_DEV_OUT:-benchmarks/out/quality-e5-dev}
DEST=${E5_DEV_DEST:-benchmarks/quality/results/e5-dev}
ALL="en de es zh tr th vi ar ru ro hi el"
UNSEEN="ar hi vi zh el ru th tr ro es de"
mkdir -p "$DEST/report"
$PY benchmarks/quality/collect_results.py "$OUT" "$DEST" | tee "$DEST/STATUS.txt"
runs=()
for run in "$DEST"/*-seed*; do
  if compgen -G "$run/scores/*.json" > /dev/null; then runs+=("$run"); fi
done
[ ${#runs[@]} -gt 0 ] || { echo "e5_dev_finish: no scored dev run in $DEST"; exit 1; }
$PY -c "import xltt_plugin.commands.report; from allennlp.commands import main; main(prog='allennlp')" \
  xltt-report "${runs[@]}" --out "$DEST/report" \
  --title "XQuAD development articles (6 of the 36 training articles), multilingual-e5-small (4-bit, dequantised)"
reference="$DEST/a_baseline_en-seed13"
for run in "$DEST"/a_baseline_en-*-seed13; do
  tag=${run#"$DEST"/a_baseline_en-}
  tag=${tag%-seed13}
  # The first check (2026-12-02) named its report after the frozen reference.
  name=$([ "$tag" = unfrozen ] && echo unfrozen_minus_frozen || echo "${tag}_minus_reference")
  if $PY benchmarks/quality/compare.py "$reference" "$run" --mode mlqa --data "$OUT/data/test" \
    --languages $ALL --unseen $UNSEEN > "$DEST/report/compare_$name.mlqa.md.tmp"; then
    mv "$DEST/report/compare_$name.mlqa.md.tmp" "$DEST/report/compare_$name.mlqa.md"
  else
    rm -f "$DEST/report/compare_$name.mlqa.md.tmp"
    echo "compare $tag - reference: not yet (no language scored by both)"
  fi
done
if [ "${1:-}" != --no-commit ]; then
  git add "$DEST"
  git commit -qm "quality-e5 dev-split results (issue 16): $(paste -sd';' "$DEST/STATUS.txt")" ||
    echo "nothing new to commit"
fi
