#!/usr/bin/env bash
# Serial queue of quality runs for a 2-core machine (at most two queues side by side; more made
# steps 5-10x slower). Usage, from the repository root:
#   nohup bash scripts/quality_queue.sh "PID ..." "PROTOCOL --systems NAME --seeds N" ... \
#     > benchmarks/out/queueX.log 2>&1 &
# waits until the PIDs (may be "") have exited, then runs each item as
# `python -m benchmarks.quality run ITEM --jobs 1 --skip-setup --no-collect` in turn (the
# runner sets the protocol's `threads`, 1 by default). Runs resume where they stopped; `collect`, `report` and `results` come after, by hand.
set -uo pipefail
cd "$(dirname "$0")/.."
pids=$1
shift
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null; do sleep 30; done
done
for item in "$@"; do
  echo "[$(date -u +%FT%TZ)] start: $item"
  # shellcheck disable=SC2086
  .venv/bin/python -m benchmarks.quality run $item --jobs 1 --skip-setup --no-collect
  echo "[$(date -u +%FT%TZ)] end ($?): $item"
done
