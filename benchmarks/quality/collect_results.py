"""
Copy the small outputs of finished quality-benchmark runs into git-tracked folders, so that
results survive a new machine and can be re-scored: for every run folder
`OUT/runs/NAME-seedN` whose archive exists, `DEST/NAME-seedN/` gets `benchmark.json` (settings,
wall times), `metrics.json` (AllenNLP's training metrics), `config.json`, and the per-language
`predictions/` and `scores/`. Archives and checkpoints are never copied. Prints, per run in
DEST (also those collected earlier, e.g. on another machine), the languages scored so far; a
run still evaluating is copied with what it has.

    .venv/bin/python benchmarks/quality/collect_results.py benchmarks/out/quality-e5 \\
        benchmarks/quality/results/e5
"""

import argparse
import glob
import json
import os
import shutil

SMALL_FILES = ("benchmark.json", "metrics.json", "config.json")


def collect(out: str, dest: str) -> list[tuple[str, list[str]]]:
    """Copy every trained run's small files; returns (run name, languages scored)."""
    done = []
    for run_dir in sorted(glob.glob(os.path.join(out, "runs", "*-seed*"))):
        info_path = os.path.join(run_dir, "benchmark.json")
        reuses = os.path.exists(info_path) and "reuses_archive" in json.load(open(info_path))
        if not (reuses or os.path.exists(os.path.join(run_dir, "model.tar.gz"))):
            continue  # not trained yet (system d reuses system c's archive)
        name = os.path.basename(run_dir)
        target = os.path.join(dest, name)
        os.makedirs(target, exist_ok=True)
        for small in SMALL_FILES:
            if os.path.exists(os.path.join(run_dir, small)):
                shutil.copyfile(os.path.join(run_dir, small), os.path.join(target, small))
        for sub in ("predictions", "scores"):
            os.makedirs(os.path.join(target, sub), exist_ok=True)
            for path in sorted(glob.glob(os.path.join(run_dir, sub, "*.json"))):
                shutil.copyfile(path, os.path.join(target, sub, os.path.basename(path)))
        done.append((name, scored_languages(run_dir)))
    return done


def scored_languages(run_dir: str) -> list[str]:
    """The languages with an mlqa score in `run_dir/scores/`, sorted."""
    return sorted(
        os.path.basename(path).split(".")[1]
        for path in glob.glob(os.path.join(run_dir, "scores", "*.mlqa.json"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the benchmark's --out folder")
    parser.add_argument("dest", help="e.g. benchmarks/quality/results/e5")
    args = parser.parse_args()
    collect(args.out, args.dest)
    for run_dir in sorted(glob.glob(os.path.join(args.dest, "*-seed*"))):
        languages = scored_languages(run_dir)
        name = os.path.basename(run_dir)
        print(f"{name}: {len(languages)} languages scored ({' '.join(languages)})")


if __name__ == "__main__":
    main()
