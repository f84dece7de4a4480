"""
The scored ceiling of the readers on XLM-R's real tokenizer, per language: each question's gold
token span decoded as prediction decodes it and scored (EM/F1 under the language's `mlqa`
rules) against the gold answers, for

- `xltt_squad` + the model's `span_to_text`, with and without trimming the punctuation a piece
  glued on (what `allennlp xltt-check-data` reports), and on Chinese also with
  `split_cjk_pieces`;
- allennlp-models' `transformer_squad` reader + `TransformerQA._collect_best_span_strings` (its
  own decoder, called on the gold span), scored by the same rules.

"text" columns count decoded spans equal to the gold answer text (outer whitespace stripped);
EM/F1 are over the questions with a gold answer (one whose span is in no window scores 0).
Same files, same tokenizer, same windows (384 / 128 / 64) on both sides.

    .venv/bin/python benchmarks/tokenizer_ceiling.py              # XQuAD x 12, CMRC/DRCD dev
    .venv/bin/python benchmarks/tokenizer_ceiling.py --model DIR --files xquad/xquad.en.json

Prints a Markdown table and writes benchmarks/out/tokenizer_ceiling.json.
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_FILES = [
    f"xquad/xquad.{lang}.json"
    for lang in sorted(["en", "de", "es", "zh", "ar", "hi", "vi", "el", "ru", "th", "tr", "ro"])
] + ["cmrc2018/cmrc2018_dev.json", "drcd/DRCD_dev.json"]
SETTINGS = {"length_limit": 384, "stride": 128, "max_query_length": 64}


def real_tokenizer_folder() -> str:
    """XLM-R's tokenizer folder, written by scripts/multilingual_e5.py into a temporary dir."""
    spec = importlib.util.spec_from_file_location(
        "multilingual_e5", REPO / "scripts" / "multilingual_e5.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.write_tokenizer_folder(Path(tempfile.mkdtemp(prefix="xlmr-tok-"))))


def language_of(relative: str) -> str:
    from xltt_plugin.data.languages import infer_language

    return infer_language(relative) or "zh"


def ours(model: str, path: str, language: str, split_cjk: bool) -> dict[str, Any]:
    from xltt_plugin.commands.check_data import check_file
    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    reader = XlttSquadReader(model, language=language, split_cjk_pieces=split_cjk, **SETTINGS)
    trimmed = check_file(reader, path)
    raw = check_file(reader, path, trim=False)
    return {
        "questions": trimmed["questions"],
        "scored": trimmed["scored_questions"],
        "windows": trimmed["windows"],
        "roundtrip_exact": trimmed["answer_roundtrip_exact"],
        "text_exact_untrimmed": raw["answer_decoded_exact"],
        "text_exact": trimmed["answer_decoded_exact"],
        "em_untrimmed": raw["ceiling_em"],
        "f1_untrimmed": raw["ceiling_f1"],
        "em": trimmed["ceiling_em"],
        "f1": trimmed["ceiling_f1"],
    }


def transformer_squad(model: str, path: str, language: str) -> dict[str, Any]:
    """allennlp-models' reader and decoder on each question's gold span."""
    import torch
    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader
    from allennlp_models.rc.metrics import SquadEmAndF1
    from allennlp_models.rc.models.transformer_qa import TransformerQA

    from xltt_plugin.data.squad_loading import read_squad_questions
    from xltt_plugin.metrics.normalization import max_over_gold_answers

    reader = TransformerSquadReader(model, **SETTINGS)
    # `_collect_best_span_strings` only uses `self._per_instance_metrics`.
    decoder = types.SimpleNamespace(_per_instance_metrics=SquadEmAndF1())
    decoded: dict[str, str] = {}
    for instance in reader.read(path):
        metadata = instance["metadata"].metadata
        if "answer_span" not in instance.fields or metadata["id"] in decoded:
            continue
        span = instance["answer_span"]
        cls_index = instance["cls_index"].sequence_index if "cls_index" in instance.fields else 0
        if span.span_start == cls_index:
            continue  # not in this window
        context_span = instance["context_span"]
        strings, _ = TransformerQA._collect_best_span_strings(
            decoder,  # type: ignore[arg-type]
            torch.tensor([[span.span_start, span.span_end]]),
            torch.tensor([[context_span.span_start, context_span.span_end]]),
            [metadata],
            torch.tensor([cls_index]),
        )
        decoded[metadata["id"]] = strings[0]
    scored = em_sum = f1_sum = 0.0
    text_exact = 0
    for question in read_squad_questions(path):
        gold = [answer.text for answer in question.answers]
        if not gold:
            continue
        prediction = decoded.get(question.qid, "")
        em, f1 = max_over_gold_answers(prediction, gold, language)
        scored += 1
        em_sum += em
        f1_sum += f1
        text_exact += prediction.strip() == gold[0].strip()
    return {
        "scored": int(scored),
        "text_exact": text_exact,
        "em": round(100 * em_sum / scored, 2),
        "f1": round(100 * f1_sum / scored, 2),
    }


def context_pieces(model: str, path: str, split_cjk: bool) -> int:
    from xltt_plugin.data.squad_loading import read_squad_questions
    from xltt_plugin.data.xltt_squad_reader import XlttSquadReader

    reader = XlttSquadReader(model, split_cjk_pieces=split_cjk, **SETTINGS)
    contexts = {question.context for question in read_squad_questions(path)}
    return sum(len(reader.tokenize(context)[0]) for context in contexts)


def percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--model", default=None, help="tokenizer folder (default: XLM-R's)")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--files", nargs="+", default=DEFAULT_FILES, metavar="REL_PATH")
    parser.add_argument(
        "--out", default=str(REPO / "benchmarks" / "out" / "tokenizer_ceiling.json")
    )
    args = parser.parse_args(argv)
    model = args.model or real_tokenizer_folder()
    rows = []
    started = time.perf_counter()
    for relative in args.files:
        path = os.path.join(args.data, relative)
        if not os.path.isfile(path):
            print(f"tokenizer_ceiling: {path} is absent; skipped", file=sys.stderr)
            continue
        language = language_of(relative)
        row: dict[str, Any] = {"file": relative, "language": language}
        row["xltt"] = ours(model, path, language, split_cjk=False)
        if language == "zh":
            row["xltt_split_cjk"] = ours(model, path, language, split_cjk=True)
            row["pieces"] = context_pieces(model, path, False)
            row["pieces_split_cjk"] = context_pieces(model, path, True)
        row["transformer_squad"] = transformer_squad(model, path, language)
        rows.append(row)
        print(f"  {relative}: done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    print(
        "| file | lang | questions | round-trip % | text % untrimmed | text % trimmed "
        "| EM untrimmed | EM / F1 (xltt) | EM / F1 split_cjk_pieces | transformer_squad text % "
        "| transformer_squad EM / F1 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ours_row, theirs = row["xltt"], row["transformer_squad"]
        n = ours_row["scored"]
        split = row.get("xltt_split_cjk")
        split_cell = f"{split['em']:.2f} / {split['f1']:.2f}" if split else "-"
        print(
            f"| {os.path.basename(row['file'])} | {row['language']} | {n} "
            f"| {percent(ours_row['roundtrip_exact'], n)} "
            f"| {percent(ours_row['text_exact_untrimmed'], n)} "
            f"| {percent(ours_row['text_exact'], n)} "
            f"| {ours_row['em_untrimmed']:.2f} "
            f"| {ours_row['em']:.2f} / {ours_row['f1']:.2f} | {split_cell} "
            f"| {percent(theirs['text_exact'], theirs['scored'])} "
            f"| {theirs['em']:.2f} / {theirs['f1']:.2f} |"
        )
    for row in rows:
        if "pieces" in row:
            print(
                f"{row['file']}: split_cjk_pieces gives {row['pieces_split_cjk']} context pieces "
                f"for {row['pieces']} ({row['pieces_split_cjk'] / row['pieces']:.2f}x)"
            )
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump({"settings": SETTINGS, "rows": rows}, handle, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
