"""
Diagnostics of a trained `xltt` archive on TRAINING windows (never the test articles): how much
the MAA fusion changes the span heads' input, how the heads weigh the two halves of G_S, and
the auxiliary-loss weights λ_R.

    .venv/bin/python benchmarks/quality/diagnose_xltt.py ARCHIVE [--windows 32]

Prints one JSON object:
- `fusion_weight_abs_mean`, `fusion_weight_abs_max`: |W_C| (starts at 0 with fusion_init_std 0)
- `relative_fusion_norm`: mean over tokens of |C' W_C + b_C| / |B_S| with real parallels, and
  `relative_fusion_norm_self` with self-transposition (the test-time condition)
- `g_s_change_real_vs_self`: mean |G_S(real parallels) - G_S(self)| / |G_S(self)|
- `head_weight_norm_bs`, `head_weight_norm_fused`: norms of the span heads' weights on the B_S
  half and on the LayerNorm(B_S + C) half of G_S
- `lambda_mean`, `lambda_min`, `lambda_max` per translation language
"""

import argparse
import json
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive")
    parser.add_argument("--windows", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    from allennlp.data import Batch
    from allennlp.models.archival import load_archive

    import xltt_plugin  # noqa: F401
    from xltt_plugin.models.xltt import _span_mean, transposition_weight
    from xltt_plugin.modules.maa import concat_slots

    archive = load_archive(args.archive)
    model = archive.model.eval()
    reader = archive.dataset_reader
    config = archive.config.as_dict()
    maa = model._maa
    if maa is None:
        sys.exit("the archive has no MAA layer (maa: null)")
    fusion = maa.fusion
    h = maa.input_dim
    result: dict = {
        "fusion_weight_abs_mean": fusion.weight.abs().mean().item(),
        "fusion_weight_abs_max": fusion.weight.abs().max().item(),
        "fusion_bias_abs_mean": fusion.bias.abs().mean().item(),
        "head_weight_norm_bs": model._span_head.weight[:, :h].norm().item(),
        "head_weight_norm_fused": model._span_head.weight[:, h:].norm().item(),
    }
    instances = []
    for instance in reader.read(config["train_data_path"]):
        instances.append(instance)
        if len(instances) >= args.windows:
            break
    rel_real, rel_self, change, lambdas = [], [], [], {}
    languages = instances[0]["metadata"]["parallel_languages"]
    with torch.no_grad():
        for start in range(0, len(instances), args.batch_size):
            batch = Batch(instances[start : start + args.batch_size])
            batch.index_instances(model.vocab)
            tensors = batch.as_tensor_dict()
            # shape: (batch, 1 + k, L, h), (batch, 1 + k, L)
            encoded, masks, seq_len, par_len = model._encode_stacked(
                tensors["question_with_context"], tensors["parallel_question_with_context"]
            )
            b_s, mask_s = encoded[:, 0, :seq_len], masks[:, 0, :seq_len]
            b_p, mask_p = encoded[:, 1:, :par_len], masks[:, 1:, :par_len]
            slots = tensors["parallel_mask"].bool()
            maps_real = maa.attention_maps(b_s, mask_s, b_p, mask_p, slots)
            maps_self = maa.attention_maps(b_s, mask_s, None, None, None)
            for maps, sink in ((maps_real, rel_real), (maps_self, rel_self)):
                fused = fusion(concat_slots(maps.attended))
                ratio = fused.norm(dim=-1) / b_s.norm(dim=-1).clamp(min=1e-6)
                sink.append(ratio[mask_s].mean().item())
            g_real = maa(b_s, mask_s, b_p, mask_p, slots)
            g_self = maa(b_s, mask_s, None, None, None)
            diff = (g_real - g_self).norm(dim=-1) / g_self.norm(dim=-1).clamp(min=1e-6)
            change.append(diff[mask_s].mean().item())
            gold = tensors["answer_span"].long()
            h_s = _span_mean(b_s, gold)
            for r, lang in enumerate(languages):
                ok = tensors["parallel_has_answer"][:, r].bool() & slots[:, r]
                if ok.any():
                    lam = transposition_weight(
                        h_s[ok],
                        _span_mean(b_p[ok, r], tensors["parallel_answer_span"][ok, r].long()),
                    )
                    lambdas.setdefault(lang, []).extend(lam.tolist())
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    result["relative_fusion_norm"] = mean(rel_real)
    result["relative_fusion_norm_self"] = mean(rel_self)
    result["g_s_change_real_vs_self"] = mean(change)
    for lang, values in lambdas.items():
        result[f"lambda_mean_{lang}"] = mean(values)
        result[f"lambda_min_{lang}"] = min(values)
        result[f"lambda_max_{lang}"] = max(values)
    result["windows"] = len(instances)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
