"""
`xltt-score` on real XQuAD files against the official rules, over thousands of perturbed
predictions: punctuation (ASCII and Unicode), articles, case, whitespace, partial and
extended spans, Unicode punctuation inside the answer, empty and wrong answers, missing ids.
"""

import contextlib
import io
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from allennlp.commands import main

from tests.metrics import reference_rules as ref
from tests.metrics.official_scripts import official_script
from xltt_plugin.commands import score  # noqa: F401  (registers xltt-score)

XQUAD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "xquad"
LANGUAGES = ("en", "es", "de", "ar", "hi", "vi", "zh")
VARIANTS = 3  # prediction files per language: 7 x 3 x 1,190 = 24,990 predictions

pytestmark = pytest.mark.skipif(
    not XQUAD.is_dir(), reason=f"real data not found at {XQUAD} (../shared/data/xquad)"
)

WRAPPERS = ['"{}"', "«{}»", "{}.", "¿{}?", "「{}」", "{}。", "({})", "{}…", "— {}", "'{}'", "{}，"]
ARTICLES = {
    "en": ["the", "a", "an", "The"],
    "es": ["el", "la", "los", "Una", "unos"],
    "de": ["der", "Die", "das", "ein", "einem"],
    "vi": ["của", "cái", "những", "là"],
    "ar": ["ال", "و", "في"],
    "hi": ["the", "एक"],
    "zh": ["the", "这"],
}
SPACES = ["  ", "\t", "\xa0", "\u3000", "\u2009", "\n"]
UNICODE_PUNCT = ["、", "・", "–", "‘", "”", "¡", "।", "؟", "«", "‐", "·"]


def perturb(gold: str, context: str, start: int, lang: str, rng: random.Random) -> str:
    kind = rng.randrange(10)
    text = gold
    if kind == 0:
        return text
    if kind == 1:
        return rng.choice(WRAPPERS).format(text)
    if kind == 2:
        article = rng.choice(ARTICLES[lang])
        return f"{article}{text}" if article == "ال" else f"{article} {text}"
    if kind == 3:
        return rng.choice([str.upper, str.lower, str.title, str.swapcase])(text)
    if kind == 4:
        text = text.replace(" ", rng.choice(SPACES))
        return rng.choice(["", " ", "\u3000"]) + text + rng.choice(["", " ", "\n"])
    if kind == 5:  # partial span
        tokens = text.split()
        if len(tokens) > 1:
            return " ".join(tokens[1:] if rng.random() < 0.5 else tokens[:-1])
        cut = rng.randrange(1, max(2, len(text)))
        return text[cut:] if rng.random() < 0.5 else text[:cut]
    if kind == 6 and start >= 0:  # extended span from the context
        left = max(0, start - rng.randrange(0, 20))
        return context[left : start + len(gold) + rng.randrange(0, 20)]
    if kind == 7:
        cut = rng.randrange(len(text) + 1)
        return text[:cut] + rng.choice(UNICODE_PUNCT) + text[cut:]
    if kind == 8:
        return rng.choice(["", " ", "...", "the", "ال"])
    # Several at once.
    for _ in range(rng.randrange(2, 4)):
        text = perturb(text, context, -1, lang, rng)
    return text


def make_predictions(dataset: list[dict[str, Any]], lang: str, seed: int) -> dict[str, str]:
    rng = random.Random(f"{lang}-{seed}")
    predictions: dict[str, str] = {}
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if rng.random() < 0.02:
                    continue  # unanswered: scores 0
                answer = qa["answers"][0]
                predictions[qa["id"]] = perturb(
                    answer["text"], paragraph["context"], answer["answer_start"], lang, rng
                )
    predictions["not-a-question-id"] = "extra"
    return predictions


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> dict[str, Any]:
    monkeypatch.setattr(sys, "argv", ["allennlp", "xltt-score", *argv])
    main(prog="allennlp")
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def prediction_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path, Path]]:
    folder = tmp_path_factory.mktemp("xquad_predictions")
    files = []
    for lang in LANGUAGES:
        dataset_path = XQUAD / f"xquad.{lang}.json"
        dataset = json.loads(dataset_path.read_text(encoding="utf-8"))["data"]
        for seed in range(VARIANTS):
            path = folder / f"predictions.{lang}.{seed}.json"
            path.write_text(json.dumps(make_predictions(dataset, lang, seed)), encoding="utf-8")
            files.append((lang, dataset_path, path))
    return files


def expected_scores(dataset_path: Path, predictions_path: Path, lang: str, mode: str) -> dict:
    dataset = json.loads(dataset_path.read_text(encoding="utf-8"))["data"]
    predictions = json.loads(predictions_path.read_text(encoding="utf-8"))
    return ref.evaluate(dataset, predictions, lang, mode)


def test_mlqa_mode_equals_reference_rules(
    prediction_files: list[tuple[str, Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    spread = set()
    for lang, dataset_path, predictions_path in prediction_files:
        result = run_cli([str(dataset_path), str(predictions_path)], monkeypatch, capsys)
        expected = expected_scores(dataset_path, predictions_path, lang, "mlqa")
        assert result["lang"] == lang  # inferred from xquad.<lang>.json
        assert result["exact_match"] == expected["exact_match"], (lang, predictions_path)
        assert result["f1"] == expected["f1"], (lang, predictions_path)
        assert result["questions"] == 1190
        assert result["unanswered"] > 0 and result["extra_predictions"] == 1
        spread.add(round(result["f1"] - result["exact_match"], 3))
    assert len(spread) > 1  # the perturbations produce partial credit, not just 0/100


def test_squad_mode_equals_reference_rules(
    prediction_files: list[tuple[str, Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    for lang, dataset_path, predictions_path in prediction_files[::VARIANTS]:
        argv = [str(dataset_path), str(predictions_path), "--mode", "squad"]
        result = run_cli(argv, monkeypatch, capsys)
        expected = expected_scores(dataset_path, predictions_path, lang, "squad")
        assert (result["exact_match"], result["f1"]) == (expected["exact_match"], expected["f1"])


@pytest.mark.parametrize("mode", ["mlqa", "squad"])
def test_equals_official_scripts(
    mode: str,
    prediction_files: list[tuple[str, Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    """The official scripts' own `evaluate`, when XLTT_OFFICIAL_EVAL_DIR names a copy."""
    official = official_script(mode)
    for lang, dataset_path, predictions_path in prediction_files:
        dataset = json.loads(dataset_path.read_text(encoding="utf-8"))["data"]
        predictions = json.loads(predictions_path.read_text(encoding="utf-8"))
        with contextlib.redirect_stderr(io.StringIO()):  # "Unanswered question ..." lines
            if mode == "mlqa":
                expected = official.evaluate(dataset, predictions, lang)
            else:
                expected = official.evaluate(dataset, predictions)
        argv = [str(dataset_path), str(predictions_path), "--mode", mode]
        result = run_cli(argv, monkeypatch, capsys)
        assert (result["exact_match"], result["f1"]) == (expected["exact_match"], expected["f1"])
