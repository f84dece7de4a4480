"""
Answers of an allennlp-models `transformer_qa` archive (system a0 of the quality benchmark) on a
SQuAD-format file, written as one JSON object `{question_id: answer_text}` (what
`allennlp xltt-score` reads). Every question gets an answer; windows as `--length` /
`--stride` (the `transformer_squad` reader of the archive, overridden).

    .venv/bin/python benchmarks/quality/predict_transformer_qa.py ARCHIVE SQUAD_FILE OUT_FILE
        [--length 256] [--stride 128] [--batch-size 16] [--max-answer-length N]

`--max-answer-length N` re-decodes the same model with spans of at most N wordpieces (what
`xltt` decodes with, `max_answer_length` 30): stock `transformer_qa` takes the best span of any
length. It swaps the model module's `get_best_span` for `length_limited_best_span` (the
plugin's tested `best_bounded_spans`); the network and its logits are unchanged.
"""

import argparse
import json
from collections.abc import Callable

import torch
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from xltt_plugin.models.span_decoding import best_bounded_spans

# Positions `transformer_qa` masked (allennlp's "big negative number", the dtype's minimum)
# lie far below this; real logits far above.
_MASKED_BELOW = -1e8


def length_limited_best_span(
    max_answer_length: int,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """
    A drop-in for allennlp-models' `get_best_span` that allows spans of at most
    `max_answer_length` tokens.

    # Returns

    A function of `(span_start_logits, span_end_logits)`, both shape (batch_size, seq_len),
    already masked by `transformer_qa` (masked positions hold the dtype's minimum), returning
    shape (batch_size, 2): the best `(start, end)` with `start <= end < start +
    max_answer_length`, maximising `start_logits[start] + end_logits[end]`.
    """

    def get_best_span(
        span_start_logits: torch.Tensor, span_end_logits: torch.Tensor
    ) -> torch.Tensor:
        mask = (span_start_logits > _MASKED_BELOW) & (span_end_logits > _MASKED_BELOW)
        starts, ends, _ = best_bounded_spans(
            span_start_logits, span_end_logits, mask, max_answer_length
        )
        return torch.stack([starts, ends], dim=-1)

    return get_best_span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive")
    parser.add_argument("squad_file")
    parser.add_argument("out_file")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-answer-length", type=int, default=None)
    args = parser.parse_args()
    import allennlp_models.rc  # noqa: F401  (registers transformer_qa)
    from allennlp_models.rc.models import transformer_qa

    if args.max_answer_length is not None:
        transformer_qa.get_best_span = length_limited_best_span(args.max_answer_length)

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
