"""
Answers of an allennlp-models `transformer_qa` archive (system a0 of the quality benchmark) on a
SQuAD-format file, written as one JSON object `{question_id: answer_text}` (what
`allennlp xltt-score` reads). Every question gets an answer; windows as `--length` /
`--stride` (the `transformer_squad` reader of the archive, overridden).

    .venv/bin/python benchmarks/quality/predict_transformer_qa.py ARCHIVE SQUAD_FILE OUT_FILE
        [--length 256] [--stride 128] [--batch-size 16]
"""

import argparse
import json

from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive")
    parser.add_argument("squad_file")
    parser.add_argument("out_file")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    import allennlp_models.rc  # noqa: F401  (registers transformer_qa)

    archive = load_archive(
        args.archive,
        overrides=json.dumps(
            {"dataset_reader.length_limit": args.length, "dataset_reader.stride": args.stride}
        ),
    )
    predictor = Predictor.from_archive(archive, "transformer_qa", dataset_reader_to_load="train")
    with open(args.squad_file, encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    questions = [
        {"id": qa["id"], "question": qa["question"], "context": paragraph["context"]}
        for article in data
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    answers: dict[str, str] = {}
    for start in range(0, len(questions), args.batch_size):
        group = questions[start : start + args.batch_size]
        outputs = predictor.predict_batch_json(
            [{"question": q["question"], "context": q["context"]} for q in group]
        )
        # The predictor numbers questions consecutively (1, 2, ...) in input order.
        if len(outputs) != len(group):
            raise RuntimeError(
                f"{args.squad_file}: {len(outputs)} answers for {len(group)} questions "
                f"starting at {group[0]['id']}"
            )
        for question, output in zip(
            group, sorted(outputs, key=lambda o: int(o["id"])), strict=True
        ):
            answers[question["id"]] = output["best_span_str"]
    with open(args.out_file, "w", encoding="utf-8") as handle:
        json.dump(answers, handle, ensure_ascii=False)
        handle.write("\n")


if __name__ == "__main__":
    main()
