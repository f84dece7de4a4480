"""Print a per-language EM/F1 table (Markdown) from `allennlp evaluate --output-file` JSONs."""

import json
import sys


def main(paths: list[str]) -> None:
    rows: dict[str, tuple[float, float]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            metrics = json.load(handle)
        for key, value in metrics.items():
            if key.startswith("f1_") and key != "f1_avg":
                language = key[3:]
                rows[f"{language} ({path.split('metrics.')[-1].removesuffix('.json')})"] = (
                    100 * metrics[f"em_{language}"],
                    100 * value,
                )
    print("| language (file) | EM | F1 |")
    print("|---|---|---|")
    for name, (em, f1) in sorted(rows.items()):
        print(f"| {name} | {em:.1f} | {f1:.1f} |")
    if rows:
        em_avg = sum(em for em, _ in rows.values()) / len(rows)
        f1_avg = sum(f1 for _, f1 in rows.values()) / len(rows)
        print(f"| **avg** | {em_avg:.1f} | {f1_avg:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
