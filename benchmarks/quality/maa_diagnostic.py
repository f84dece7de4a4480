"""
What an MAA layer reads from its slots (issues 16, 30). For a trained (c) archive, or for an
untrained model built from a training config (`--config`: the encoder pretrained, MAA at its
initialisation), it reads the pivot windows of the first N questions of one language with the
item's translations in the slots (test mode `translated`) and prints, per slot language and
over all slots:

* the normalised entropy of the slot attention `softmax(Â_SM)` (eq. 12) over the slot's real
  positions, per real pivot position (1 = uniform, 0 = one position): mean, min, quartiles;
* the mean largest weight of a row;
* the cosine between the attended slot `C'_M` and the plain mean of the slot's positions
  (what a uniform attention would give);
* how much `G_S`'s fused half changes when the slots hold the pivot itself (mode `self`)
  instead of the translations: mean |ΔG| / mean |G| over real pivot positions;
* `τ` (`score_scale`, learned or fixed) and the MAA options.

MAA combines its heads into one score per (pivot, slot) position pair (eq. 9 concatenates the
heads' projections), so there is one attention map per slot, whatever `num_heads`.

    # a trained archive, evaluated on its split's eval articles
    .venv/bin/python benchmarks/quality/maa_diagnostic.py \\
        --archive benchmarks/out/quality-e5/runs/c_xltt-seed14/model.tar.gz \\
        --data benchmarks/out/quality-e5/data/test --language zh --questions 16
    # an untrained model with a given MAA option (slot attention at initialisation)
    ENCODER=benchmarks/out/multilingual-e5-small .venv/bin/python \\
        benchmarks/quality/maa_diagnostic.py --config benchmarks/quality/c_xltt.jsonnet \\
        --overrides '{"model.maa": {"num_heads": 1, "adaptive_sides": "pivot"}}' \\
        --data benchmarks/out/quality-e5-dev/data/train --language en
"""

import argparse
import json
import os
from typing import Any

import torch
from allennlp.common import Params
from allennlp.data import Batch, DatasetReader, Instance, Vocabulary
from allennlp.models import Model
from allennlp.models.archival import load_archive

import xltt_plugin  # noqa: F401  (registers the plugin)
from xltt_plugin.modules.maa import MaaQueries, masked_softmax

# ext vars of benchmarks/quality/common.libsonnet an untrained model needs only nominally.
CONFIG_DEFAULTS = {
    "ENCODER": os.path.join("benchmarks", "out", "multilingual-e5-small"),
    "DATA": os.path.join("benchmarks", "out", "quality-e5-dev", "data"),
    "SEED": "13",
    "EPOCHS": "1",
    "STEPS_PER_EPOCH": "1",
    "LR": "2e-4",
    "LENGTH": "192",
    "STRIDE": "64",
    "BATCH_SIZE": "8",
    "FREEZE_WORD_EMBEDDINGS": "1",
}


def load_model(args: argparse.Namespace) -> tuple[Model, str]:
    """The trained archive's model, or an untrained one from `--config`; and its encoder name."""
    if args.archive:
        archive = load_archive(args.archive)
        model = archive.model
        encoder = archive.config["model"]["transformer_model_name"]
        return model, encoder
    ext_vars = {key: os.environ.get(key, value) for key, value in CONFIG_DEFAULTS.items()}
    params = Params.from_file(args.config, args.overrides or "", ext_vars)
    torch.manual_seed(int(ext_vars["SEED"]))
    model_params = params.pop("model")
    encoder = model_params["transformer_model_name"]
    return Model.from_params(vocab=Vocabulary(), params=model_params), encoder


def read_windows(
    encoder: str, data: str, language: str, slots: list[str], questions: int, length: int
) -> list[Instance]:
    """The windows of the first `questions` questions of `data/xquad.{language}.json`."""
    reader = DatasetReader.from_params(
        Params(
            {
                "type": "xltt_translated",
                "transformer_model_name": encoder,
                "length_limit": length,
                "stride": 64,
                "max_query_length": 64,
                "parallel_languages": slots,
                "parallel_files": {s: os.path.join(data, f"xquad.{s}.json") for s in slots},
            }
        )
    )
    instances: list[Instance] = []
    seen: set[str] = set()
    for instance in reader.read(os.path.join(data, f"xquad.{language}.json")):
        qid = instance["metadata"]["id"]
        if qid not in seen and len(seen) >= questions:
            break
        seen.add(qid)
        instances.append(instance)
    return instances


def quartiles(values: torch.Tensor) -> list[float]:
    return [
        round(float(q), 5)
        for q in torch.quantile(
            values.double(), torch.tensor([0.25, 0.5, 0.75], dtype=torch.double)
        )
    ]


def diagnose(model: Model, instances: list[Instance], slots: list[str]) -> dict[str, Any]:
    """The slot-attention statistics of `model`'s MAA on `instances` (see the module docstring)."""
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    tensors = batch.as_tensor_dict()
    maa = model._maa
    if maa is None:
        raise ValueError("the model has no MAA layer (maa: null)")
    model.eval()
    with torch.no_grad():
        stack = model._encode_stacked(
            tensors["question_with_context"], tensors["parallel_question_with_context"]
        )
        # shape: (batch, L, h), (batch, L); (batch, k, L, h), (batch, k, L)
        pivot, pivot_mask = stack.encoded[:, 0], stack.mask[:, 0]
        parallels, parallel_mask = stack.encoded[:, 1:], stack.mask[:, 1:]
        real = model._real_translations(stack, tensors.get("parallel_mask"))
        maps = maa.attention_maps(pivot, pivot_mask, parallels, parallel_mask, slot_mask=real)
        slot_ids = model._pivot_slots(stack, real)
        g_translated = maa.fuse_queries(MaaQueries.of_pivots(stack.encoded, stack.mask, slot_ids))
        g_self = maa.fuse_queries(
            MaaQueries.of_pivots(stack.encoded, stack.mask, torch.zeros_like(slot_ids))
        )
    hidden = pivot.size(-1)
    # Slot attention over the slot's real positions. shape: (batch, k, L, L)
    attention = masked_softmax(maps.a_hat.float(), maps.mask_m)
    n_real = maps.mask_m.sum(-1).clamp(min=2).float()  # shape: (batch, k)
    entropy = -(attention.clamp(min=1e-30).log() * attention).sum(-1)  # shape: (batch, k, L)
    normalised = entropy / n_real.log().unsqueeze(-1)
    # Real pivot rows of slots holding a real translation. shape: (batch, k, L)
    present = (maps.mask_m.sum(-1) > 0) & (slot_ids > 0)
    rows = pivot_mask.bool().unsqueeze(1).expand_as(normalised) & present[..., None]
    mean_slot = (maps.b_m * maps.mask_m.unsqueeze(-1)).sum(2) / maps.mask_m.sum(
        -1, keepdim=True
    ).clamp(min=1)
    cosine = torch.nn.functional.cosine_similarity(
        maps.attended, mean_slot.unsqueeze(2).expand_as(maps.attended), dim=-1
    )
    max_weight = attention.max(-1).values

    def summary(select: torch.Tensor) -> dict[str, Any]:
        return {
            "rows": int(select.sum()),
            "normalised_entropy_mean": round(float(normalised[select].mean()), 5),
            "normalised_entropy_min": round(float(normalised[select].min()), 5),
            "normalised_entropy_quartiles": quartiles(normalised[select]),
            "max_weight_mean": round(float(max_weight[select].mean()), 5),
            "cosine_attended_vs_slot_mean": round(float(cosine[select].mean()), 6),
        }

    per_slot = {}
    for j, language in enumerate(slots):
        only = torch.zeros_like(rows)
        only[:, j] = rows[:, j]
        if only.any():
            per_slot[language] = summary(only)
    fused_t, fused_s = g_translated[..., hidden:], g_self[..., hidden:]
    real_rows = pivot_mask.bool()
    change = (fused_t - fused_s).abs()[real_rows].mean() / fused_t.abs()[real_rows].mean()
    return {
        "windows": len(instances),
        "maa": {
            "num_heads": maa.num_heads,
            "adaptive_sides": maa.adaptive_sides,
            "score_scale": round(float(maa.current_score_scale()), 5),
            "learn_score_scale": maa.log_score_scale is not None,
        },
        "slot_attention": summary(rows),
        "slot_attention_per_slot": per_slot,
        "fused_half_relative_change_translated_vs_self": round(float(change), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--archive", help="a trained model.tar.gz")
    source.add_argument("--config", help="a training config: the model untrained")
    parser.add_argument("--overrides", default="", help="JSON overrides of --config")
    parser.add_argument("--data", required=True, help="folder of xquad.<language>.json files")
    parser.add_argument("--language", default="en", help="the pivot (test item) language")
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--slots", nargs="+", default=["de", "es"])
    parser.add_argument("--length", type=int, default=256, help="window length")
    parser.add_argument("--output", default=None, help="also write the JSON here")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 0)) or max(1, os.cpu_count() or 1))
    model, encoder = load_model(args)
    instances = read_windows(
        encoder, args.data, args.language, args.slots, args.questions, args.length
    )
    result = {
        "source": os.path.relpath(args.archive) if args.archive else os.path.relpath(args.config),
        "overrides": json.loads(args.overrides) if args.overrides else None,
        "data": os.path.relpath(args.data),
        "language": args.language,
        "slots": args.slots,
        "questions": args.questions,
    } | diagnose(model, instances, args.slots)
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
