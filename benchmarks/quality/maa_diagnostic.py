"""
What the trained MAA layer reads from its slots (issue 16 diagnostic): for a trained (c)
archive, the pivot windows of the first N test questions of one language with the item's de/es
versions in the slots (test mode `translated`), it prints

* the normalised entropy of the slot attention `softmax(Â_SM)` (eq. 12) over the slot's real
  positions, per pivot position (1 = uniform, 0 = one position);
* the cosine between the attended slot `C'_M` and the plain mean of the slot's positions
  (what a uniform attention would give);
* how much `G_S`'s fused half changes when the slots hold the pivot itself (mode `self`)
  instead of the translations: mean |ΔG| / mean |G| over real pivot positions.

    .venv/bin/python benchmarks/quality/maa_diagnostic.py benchmarks/out/quality-e5 \\
        --seed 14 --language zh --questions 16
"""

import argparse
import json
import os

import torch
from allennlp.data import Batch
from allennlp.models.archival import load_archive

import xltt_plugin  # noqa: F401  (registers the plugin)
from xltt_plugin.modules.maa import MaaQueries, masked_softmax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("out", help="the quality benchmark's --out folder")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--tag", default="")
    parser.add_argument("--language", default="zh")
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--slots", nargs="+", default=["de", "es"])
    args = parser.parse_args()
    suffix = f"-{args.tag}" if args.tag else ""
    run = os.path.join(args.out, "runs", f"c_xltt{suffix}-seed{args.seed}")
    test_dir = os.path.join(args.out, "data", "test")
    with open(os.path.join(run, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    reader_params = {
        "type": "xltt_translated",
        "transformer_model_name": config["dataset_reader"]["transformer_model_name"],
        "length_limit": 256,
        "stride": 64,
        "max_query_length": 64,
        "parallel_languages": args.slots,
        "parallel_files": {s: os.path.join(test_dir, f"xquad.{s}.json") for s in args.slots},
    }
    archive = load_archive(
        os.path.join(run, "model.tar.gz"),
        overrides=json.dumps({"validation_dataset_reader": reader_params}),
    )
    model, reader = archive.model, archive.validation_dataset_reader
    model.eval()
    instances, seen = [], set()
    for instance in reader.read(os.path.join(test_dir, f"xquad.{args.language}.json")):
        qid = instance["metadata"]["id"]
        if qid not in seen and len(seen) >= args.questions:
            break
        seen.add(qid)
        instances.append(instance)
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    tensors = batch.as_tensor_dict()
    maa = model._maa
    with torch.no_grad():
        stack = model._encode_stacked(
            tensors["question_with_context"], tensors["parallel_question_with_context"]
        )
        # shape: (batch, L, h), (batch, L); (batch, k, L, h), (batch, k, L)
        pivot, pivot_mask = stack.encoded[:, 0], stack.mask[:, 0]
        parallels, parallel_mask = stack.encoded[:, 1:], stack.mask[:, 1:]
        real = model._real_translations(stack, tensors.get("parallel_mask"))
        maps = maa.attention_maps(pivot, pivot_mask, parallels, parallel_mask, slot_mask=real)
        slots = model._pivot_slots(stack, real)
        g_translated = maa.fuse_queries(MaaQueries.of_pivots(stack.encoded, stack.mask, slots))
        g_self = maa.fuse_queries(
            MaaQueries.of_pivots(stack.encoded, stack.mask, torch.zeros_like(slots))
        )
    hidden = pivot.size(-1)
    # Slot attention over the slot's real positions. shape: (batch, k, L, L)
    attention = masked_softmax(maps.a_hat.float(), maps.mask_m)
    n_real = maps.mask_m.sum(-1).clamp(min=2).float()  # shape: (batch, k)
    entropy = -(attention.clamp(min=1e-30).log() * attention).sum(-1)  # shape: (batch, k, L)
    normalised = entropy / n_real.log().unsqueeze(-1)
    rows = (
        pivot_mask.bool().unsqueeze(1).expand_as(normalised) & (maps.mask_m.sum(-1) > 0)[..., None]
    )
    mean_slot = (maps.b_m * maps.mask_m.unsqueeze(-1)).sum(2) / maps.mask_m.sum(-1, keepdim=True)
    cosine = torch.nn.functional.cosine_similarity(
        maps.attended, mean_slot.unsqueeze(2).expand_as(maps.attended), dim=-1
    )
    fused_t, fused_s = g_translated[..., hidden:], g_self[..., hidden:]
    real_rows = pivot_mask.bool()
    change = (fused_t - fused_s).abs()[real_rows].mean() / fused_t.abs()[real_rows].mean()
    print(
        json.dumps(
            {
                "run": os.path.basename(run),
                "language": args.language,
                "windows": len(instances),
                "questions": len(seen),
                "slot_attention_normalised_entropy_mean": float(normalised[rows].mean()),
                "slot_attention_normalised_entropy_min": float(normalised[rows].min()),
                "slot_attention_max_weight_mean": float(attention.max(-1).values[rows].mean()),
                "cosine_attended_vs_slot_mean": float(cosine[rows].mean()),
                "fused_half_relative_change_translated_vs_self": float(change),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
