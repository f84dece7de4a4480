"""
Scoring: `xltt-score`'s `score_files` on every XQuAD language plus CMRC2018 dev and trial
(12,551 questions, >= 12,000 predictions) against the same work done by a straightforward
per-question loop of the official MLQA v1 script's rules (per-character punctuation test
against the set of Unicode punctuation, per-language article regexes, whitespace or mixed
Chinese segmentation, Counter-based F1), written here as that script's users would run it.
"""

import json
import os
import random
import re
import string
import sys
import tempfile
import unicodedata
from collections import Counter
from typing import Any

from bench_common import SHARED_DATA, XQUAD, alternate

# --------------------------------------------------------------------------- the baseline

_PUNCT = {
    chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)).startswith("P")
} | set(string.punctuation)
_ARTICLES = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "ar": r"\sال^|ال",
}
_HAN = re.compile(r"[\u4e00-\u9fa5]")


def _mixed_segmentation(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for char in text:
        if _HAN.search(char) or char in _PUNCT:
            if pending:
                out.extend(pending.split())
                pending = ""
            out.append(char)
        else:
            pending += char
    if pending:
        out.extend(pending.split())
    return out


def official_normalize(text: str, lang: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    if lang in _ARTICLES:
        text = re.sub(_ARTICLES[lang], " ", text)
    tokens = _mixed_segmentation(text) if lang == "zh" else text.split()
    return " ".join(t for t in tokens if t.strip() != "")


def official_f1(prediction: str, gold: str, lang: str) -> float:
    pred_tokens = official_normalize(prediction, lang).split()
    gold_tokens = official_normalize(gold, lang).split()
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def official_evaluate(dataset_path: str, predictions_path: str, lang: str) -> dict[str, float]:
    with open(dataset_path, encoding="utf-8") as file:
        dataset = json.load(file)["data"]
    with open(predictions_path, encoding="utf-8") as file:
        predictions = json.load(file)
    em = f1 = 0.0
    total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    continue
                golds = [answer["text"] for answer in qa["answers"]]
                prediction = predictions[qa["id"]]
                em += max(
                    float(official_normalize(prediction, lang) == official_normalize(g, lang))
                    for g in golds
                )
                f1 += max(official_f1(prediction, g, lang) for g in golds)
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1 / total}


# --------------------------------------------------------------------------- the data


def datasets() -> list[tuple[str, str]]:
    files = [
        (os.path.join(XQUAD, f"xquad.{lang}.json"), lang)
        for lang in ("en", "de", "es", "zh", "ar", "hi", "vi")
    ]
    files += [
        (os.path.join(SHARED_DATA, "cmrc2018", "cmrc2018_dev.json"), "zh"),
        (os.path.join(SHARED_DATA, "cmrc2018", "cmrc2018_trial.json"), "zh"),
    ]
    return [(path, lang) for path, lang in files if os.path.isfile(path)]


def make_predictions(path: str, seed: int) -> dict[str, str]:
    """A deterministic mix: exact gold, gold cut or extended by context text, other spans."""
    rng = random.Random(seed)
    with open(path, encoding="utf-8") as file:
        data = json.load(file)["data"]
    predictions: dict[str, str] = {}
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = max(0, int(answer.get("answer_start", 0)))
                end = start + len(answer["text"])
                choice = rng.random()
                if choice < 0.4:
                    text = answer["text"]
                elif choice < 0.7:
                    text = context[max(0, start - rng.randint(0, 15)) : end + rng.randint(0, 15)]
                elif choice < 0.9:
                    text = context[start : max(start + 1, end - rng.randint(1, 10))]
                else:
                    offset = rng.randint(0, max(0, len(context) - 30))
                    text = context[offset : offset + rng.randint(1, 30)]
                predictions[qa["id"]] = text
    return predictions


def run(runs: int) -> dict[str, Any]:
    from xltt_plugin.commands.score import score_files

    work = []
    tmp = tempfile.mkdtemp(prefix="xltt_bench_scorer_")
    total = 0
    for index, (path, lang) in enumerate(datasets()):
        predictions = make_predictions(path, index)
        total += len(predictions)
        out = os.path.join(tmp, f"predictions_{index}.json")
        with open(out, "w", encoding="utf-8") as file:
            json.dump(predictions, file, ensure_ascii=False)
        work.append((path, out, lang))

    # Both sides must give the same numbers.
    mismatches = []
    for path, out, lang in work:
        ours = score_files(path, out, lang, "mlqa")
        theirs = official_evaluate(path, out, lang)
        differs = any(abs(ours[key] - theirs[key]) > 1e-9 for key in ("f1", "exact_match"))
        if differs:
            mismatches.append({"file": os.path.basename(path), "xltt": ours, "loop": theirs})

    def xltt_side() -> None:
        for path, out, lang in work:
            score_files(path, out, lang, "mlqa")

    def loop_side() -> None:
        for path, out, lang in work:
            official_evaluate(path, out, lang)

    timing = alternate(xltt_side, loop_side, runs=runs, warmup=1)
    return {
        "predictions": total,
        "files": [os.path.basename(path) for path, _, _ in work],
        "same_scores": not mismatches,
        "mismatches": mismatches[:3],
        "time": timing.summary(),
        "scorer_ratio": round(timing.ratio, 3),
    }
