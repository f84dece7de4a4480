# Shared by e5_finish.sh (test articles) and e5_dev_finish.sh (development articles); sourced,
# not run. Sets PY, ALL (the 12 XQuAD languages) and the functions below; the caller has `cd`'d
# to the repository root and set `set -euo pipefail`.
export PYTHONPATH=$PWD
PY=.venv/bin/python
ALL="en de es zh tr th vi ar ru ro hi el"

# e5_collect OUT DEST: copy what the runs under OUT have finished into DEST (git's copy), write
# DEST/STATUS.txt, and set the array `runs` to DEST's run folders with at least one score.
e5_collect() {
  mkdir -p "$2/report"
  $PY benchmarks/quality/collect_results.py "$1" "$2" | tee "$2/STATUS.txt"
  runs=()
  for run in "$2"/*-seed*; do
    if compgen -G "$run/scores/*.json" > /dev/null; then runs+=("$run"); fi
  done
}

# e5_report REPORT_DIR TITLE RUN...: the xltt-report table and chart of the RUN folders in
# REPORT_DIR.
e5_report() {
  local dir=$1 title=$2
  shift 2
  $PY -c "import xltt_plugin.commands.report; from allennlp.commands import main; main(prog='allennlp')" \
    xltt-report "$@" --out "$dir" --title "$title"
}

# e5_compare REPORT RUNS_A RUNS_B MODE DATA UNSEEN [LANGUAGES]: compare.py's B - A report over
# LANGUAGES (default: the 12; RUNS_*: comma-separated run folders), written only when the
# comparison succeeds (an earlier report is kept otherwise).
e5_compare() {
  if $PY benchmarks/quality/compare.py "$2" "$3" --mode "$4" --data "$5" --languages ${7:-$ALL} \
    --unseen $6 > "$1.tmp"; then
    mv "$1.tmp" "$1"
  else
    rm -f "$1.tmp"
    echo "compare $(basename "$1"): not yet (no language scored by every run)"
  fi
}

# e5_commit DEST SUBJECT [--no-commit]: commit DEST, its STATUS.txt in the message.
e5_commit() {
  [ "${3:-}" = --no-commit ] && return 0
  git add "$1"
  git commit -qm "$2 (issue 16): $(paste -sd';' "$1/STATUS.txt")" || echo "nothing new to commit"
}
