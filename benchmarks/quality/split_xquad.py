"""
Split XQuAD by article for the real-data quality benchmark (issue 9).

    .venv/bin/python benchmarks/quality/split_xquad.py \
        [--xquad ../shared/data/xquad] [--out benchmarks/out/quality/data] [--train-articles 36]
        [--dev-articles 0]

For every `xquad.LANG.json` in `--xquad`, writes `OUT/train/xquad.LANG.json` (the first
`--train-articles` articles, in file order) and `OUT/test/xquad.LANG.json` (the rest), so that
no passage is in both. XQuAD has the same articles, paragraphs and question ids in every
language, which the script checks. It also writes `OUT/train/xquad_mix.en-de-es.json`: the
English, German and Spanish training articles in one file for the translate-train baseline,
question ids suffixed with `-LANG` so that they stay unique. Deterministic; prints a JSON summary.

`--dev-articles N` (N > 0) makes a development split for choosing settings without touching the
test articles: the last N of the `--train-articles` articles become `OUT/test/` and the ones
before them `OUT/train/`; the real test articles are not written at all.
"""

import argparse
import glob
import json
import os
import re
import sys
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _ids(articles: list[dict[str, Any]]) -> list[list[str]]:
    return [[qa["id"] for p in a["paragraphs"] for qa in p["qas"]] for a in articles]


def _write(path: str, data: dict[str, Any]) -> None:
    """Write JSON, leaving an identical existing file untouched (runs may be reading it)."""
    text = json.dumps(data, ensure_ascii=False)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return
    with open(path + ".tmp", "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(path + ".tmp", path)


def split(
    xquad_dir: str, out_dir: str, train_articles: int, mix: list[str], dev_articles: int = 0
) -> dict[str, Any]:
    paths = sorted(glob.glob(os.path.join(xquad_dir, "xquad.*.json")))
    if not paths:
        sys.exit(f"no xquad.LANG.json files in {xquad_dir} (expected ../shared/data/xquad)")
    if not 0 <= dev_articles < train_articles:
        sys.exit(f"--dev-articles must lie in 0..{train_articles - 1}")
    # Development split: train on the first articles, evaluate on the last training articles.
    train_end = train_articles - dev_articles
    eval_end = train_articles if dev_articles else None
    summary: dict[str, Any] = {
        "train_articles": train_end,
        "eval_articles": "dev" if dev_articles else "test",
        "languages": {},
    }
    reference: list[list[str]] | None = None
    train_data: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        match = re.fullmatch(r"xquad\.([a-z]{2})\.json", os.path.basename(path))
        if match is None:
            continue
        lang = match.group(1)
        with open(path, encoding="utf-8") as handle:
            dataset = json.load(handle)
        articles = dataset["data"]
        ids = _ids(articles)
        if reference is None:
            reference = ids
        elif ids != reference:
            sys.exit(f"{path}: articles/question ids differ from the other XQuAD languages")
        if not 0 < train_articles < len(articles):
            sys.exit(f"{path}: --train-articles must lie in 1..{len(articles) - 1}")
        train_data[lang] = articles[:train_end]
        for part, chunk in (
            ("train", articles[:train_end]),
            ("test", articles[train_end:eval_end]),
        ):
            os.makedirs(os.path.join(out_dir, part), exist_ok=True)
            _write(
                os.path.join(out_dir, part, f"xquad.{lang}.json"),
                {"version": dataset.get("version", "1.1"), "data": chunk},
            )
        summary["languages"][lang] = {
            "train_questions": sum(len(x) for x in ids[:train_end]),
            "eval_questions": sum(len(x) for x in ids[train_end:eval_end]),
        }
    missing = [lang for lang in mix if lang not in train_data]
    if missing:
        sys.exit(f"translate-train languages {missing} have no xquad.LANG.json in {xquad_dir}")
    mixed = []
    for lang in mix:
        for article in train_data[lang]:
            paragraphs = [
                {
                    "context": p["context"],
                    "qas": [dict(qa, id=f"{qa['id']}-{lang}") for qa in p["qas"]],
                }
                for p in article["paragraphs"]
            ]
            mixed.append(
                {"title": f"{article.get('title', '')} ({lang})", "paragraphs": paragraphs}
            )
    mix_name = f"xquad_mix.{'-'.join(mix)}.json"
    _write(os.path.join(out_dir, "train", mix_name), {"version": "1.1", "data": mixed})
    summary["mix_file"] = os.path.join(out_dir, "train", mix_name)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", default=os.path.join(REPO, "..", "shared", "data", "xquad"))
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks", "out", "quality", "data"))
    parser.add_argument("--train-articles", type=int, default=36)
    parser.add_argument("--dev-articles", type=int, default=0)
    parser.add_argument("--mix", default="en,de,es", help="languages of the translate-train file")
    args = parser.parse_args()
    summary = split(
        os.path.normpath(args.xquad),
        args.out,
        args.train_articles,
        args.mix.split(","),
        args.dev_articles,
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
