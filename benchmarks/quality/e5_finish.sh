#!/usr/bin/env bash
# Issue 16: collect what the multilingual-e5-small quality run has finished so far into git
# (benchmarks/quality/results/e5/: per-run predictions, scores, metrics, wall times), write the
# report (xltt-report table and chart, gain over (a) chart, paired bootstraps) there, and commit
# it. Safe to run while the run is still going (it takes what is finished) and again later.
#     bash benchmarks/quality/e5_finish.sh [--no-commit]
set -euo pipefail
cd "$(dirname "$0")/../.."
source benchmarks/quality/e5_common.sh
FLAG=${1:-}  # --no-commit (kept: `set -- $pair` below reuses $1)
OUT=${E5_OUT:-benchmarks/out/quality-e5}
DEST=${E5_DEST:-benchmarks/quality/results/e5}
UNSEEN="ar hi vi zh el ru th tr ro"
e5_collect "$OUT" "$DEST"
if [ ${#runs[@]} -gt 0 ]; then
  e5_report "$DEST/report" "XQuAD test articles (12 of 48), multilingual-e5-small (4-bit, dequantised)" \
    "${runs[@]}"
  if compgen -G "$DEST/a_baseline_en-seed*/scores/*.json" > /dev/null; then
    $PY benchmarks/quality/gain_chart.py "${runs[@]}" --baseline a_baseline_en \
      --out "$DEST/report/gain_over_a_mlqa.png" > "$DEST/report/gain_over_a_mlqa.md"
  fi
  # The main result alone (every system at the dev-chosen lr 2e-4): table, F1 chart, gain over (a).
  main=()
  for run in "${runs[@]}"; do
    case $(basename "$run") in
      [abcd]_*-lr2e-4-seed*) main+=("$run") ;;
    esac
  done
  if [ ${#main[@]} -gt 0 ]; then
    e5_report "$DEST/report/lr2e-4" \
      "XQuAD test articles, multilingual-e5-small, every system at the dev-chosen lr 2e-4" "${main[@]}"
    if compgen -G "$DEST/a_baseline_en-lr2e-4-seed*/scores/*.json" > /dev/null; then
      $PY benchmarks/quality/gain_chart.py "${main[@]}" --baseline a_baseline_en-lr2e-4 \
        --out "$DEST/report/lr2e-4/gain_over_a_mlqa.png" > "$DEST/report/lr2e-4/gain_over_a_mlqa.md"
    fi
  fi
  # B - A on the seeds both systems have (ablations: the seeds of the ablation; -lr2e-4: the
  # learning rate chosen on the development split for every system, e5_dev_finish.sh).
  for pair in "b_translate_train c_xltt" "a_baseline_en c_xltt" "a0_transformer_qa a_baseline_en" \
    "c_xltt d_xltt_translated" "c_xltt-nomaa c_xltt" "c_xltt-noaux c_xltt" \
    "d_xltt_translated-noaux d_xltt_translated" "c_xltt-noaux d_xltt_translated-noaux" \
    "c_xltt-selftrans1 c_xltt" "c_xltt-nomaa c_xltt-selftrans1" \
    "c_xltt-selftrans1 d_xltt_translated-selftrans1" "d_xltt_translated-selftrans1 d_xltt_translated" \
    "a0_transformer_qa a0_transformer_qa-len30" "a0_transformer_qa-len30 a_baseline_en" \
    "a_baseline_en a_baseline_en-lr2e-4" "b_translate_train b_translate_train-lr2e-4" \
    "c_xltt c_xltt-lr2e-4" "a_baseline_en-lr2e-4 c_xltt-lr2e-4" \
    "b_translate_train-lr2e-4 c_xltt-lr2e-4" "a_baseline_en-lr2e-4 c_xltt" \
    "b_translate_train-lr2e-4 c_xltt" "c_xltt-lr2e-4 d_xltt_translated-lr2e-4" \
    "c_xltt-lr2e-4-nomaa c_xltt-lr2e-4" "c_xltt-lr2e-4-noaux c_xltt-lr2e-4" \
    "d_xltt_translated-lr2e-4-noaux d_xltt_translated-lr2e-4" \
    "c_xltt-lr2e-4-noaux d_xltt_translated-lr2e-4-noaux"; do
    set -- $pair
    a=() b=()
    for run in "$DEST/$1"-seed*; do
      seed=${run##*-seed}
      if [ -d "$run" ] && [ -d "$DEST/$2-seed$seed" ]; then a+=("$run") b+=("$DEST/$2-seed$seed"); fi
    done
    [ ${#a[@]} -gt 0 ] || continue
    a=$(IFS=,; echo "${a[*]}") b=$(IFS=,; echo "${b[*]}")
    for mode in mlqa squad; do
      e5_compare "$DEST/report/compare_${2}_minus_${1}.$mode.md" "$a" "$b" "$mode" \
        "$OUT/data/test" "$UNSEEN"
    done
  done
  # (d) - (c) over all 9 unseen languages, on the seeds where (d) has every one of them (the
  # pairs above keep only the languages every seed has: seed 13's (c) archive was lost after 5),
  # at lr 1e-4 and at the dev-chosen 2e-4.
  for tag in "" -lr2e-4; do
    a=() b=()
    for run in "$DEST"/d_xltt_translated$tag-seed*; do
      [ -d "$run" ] || continue
      seed=${run##*-seed} complete=yes
      for lang in $UNSEEN; do [ -e "$run/scores/xquad.$lang.mlqa.json" ] || complete=no; done
      if [ $complete = yes ] && [ -d "$DEST/c_xltt$tag-seed$seed" ]; then
        a+=("$DEST/c_xltt$tag-seed$seed") b+=("$run")
      fi
    done
    [ ${#a[@]} -gt 0 ] || continue
    a=$(IFS=,; echo "${a[*]}") b=$(IFS=,; echo "${b[*]}")
    for mode in mlqa squad; do
      e5_compare "$DEST/report/compare_d_xltt_translated${tag}_minus_c_xltt${tag}.all-unseen.$mode.md" \
        "$a" "$b" "$mode" "$OUT/data/test" "$UNSEEN" "$UNSEEN"
    done
  done
fi
e5_commit "$DEST" "quality-e5 results" "$FLAG"
