"""
ESTIMATED peak GPU memory of training the paper configs (batch 16, windows of 384) per memory
setting, from parameter and activation counts; no GPU was available to measure it (README
"GPU memory" prints this table).

    python benchmarks/gpu_memory_estimate.py

Counts, per encoder (architecture numbers of the published checkpoints):
- parameters P: embeddings (vocabulary + positions + types) × hidden + layers × (12 h² + 13 h)
  (checked against the tiny fixture encoder's count: `--check`);
- weights, gradients and AdamW's two moments in float32: 16 B per parameter; with AMP
  (AllenNLP's `use_amp`: float32 weights, float16 autocast) autocast's float16 weight copies,
  2 B per encoder-layer parameter;
- activations kept for the backward pass, per layer and token (Korthikanti et al. 2022,
  "Reducing activation recomputation in large transformer models", without the s² attention
  terms, which PyTorch's fused scaled-dot-product attention does not keep): 34·h bytes in half
  precision, 66·h in float32; with gradient checkpointing only each layer's input (4·h bytes,
  float32 residual stream) plus one layer's full activations during its recomputation;
- tokens per micro-batch: windows × sequences × 384, sequences = 1 + k = 3 for XLTT (pivot and
  two translations through the shared encoder), 1 for the Table 8 baselines; gradient
  accumulation over n micro-batches divides the windows by n (the effective batch stays 16);
- MAA, the span head and the auxiliary loss's extra MAA queries: one more layer's activations;
  plus 1.5 GB for the CUDA context, cuBLAS workspace and allocator slack.
"""

from dataclasses import dataclass

GB = 1e9
LENGTH = 384
BATCH = 16
OVERHEAD = 1.5 * GB


@dataclass(frozen=True)
class Encoder:
    name: str
    vocab: int
    hidden: int
    layers: int
    positions: int = 514
    types: int = 1
    intermediate: int = 0  # 0: 4 × hidden

    @property
    def layer_parameters(self) -> int:
        """Attention (4 linear maps), feed-forward (2), two LayerNorms, per layer."""
        h, i = self.hidden, self.intermediate or 4 * self.hidden
        return self.layers * (4 * (h * h + h) + 2 * h * i + i + h + 4 * h)

    @property
    def parameters(self) -> int:
        """Without the pooler, which the model freezes (it never reaches the loss)."""
        embeddings = (self.vocab + self.positions + self.types) * self.hidden + 2 * self.hidden
        return embeddings + self.layer_parameters


ENCODERS = [
    Encoder("xlm-roberta-large", vocab=250_002, hidden=1024, layers=24),
    Encoder(
        "bert-base-multilingual-cased", vocab=119_547, hidden=768, layers=12, positions=512, types=2
    ),
]

# name: (AMP, gradient checkpointing, accumulation steps)
SETTINGS = {
    "float32": (False, False, 1),
    "float32, accumulation 4": (False, False, 4),
    "AMP": (True, False, 1),
    "AMP, accumulation 4": (True, False, 4),
    "AMP, checkpointing": (True, True, 1),
    "AMP, checkpointing, accumulation 4": (True, True, 4),
}


def peak_bytes(
    encoder: Encoder, sequences: int, amp: bool, checkpointing: bool, accum: int
) -> float:
    """Estimated peak bytes of one training step (see the module docstring)."""
    states = 16 * encoder.parameters + (2 * encoder.layer_parameters if amp else 0)
    tokens = BATCH // accum * sequences * LENGTH
    per_layer = (34 if amp else 66) * encoder.hidden * tokens
    if checkpointing:
        activations = 4 * encoder.hidden * tokens * encoder.layers + per_layer
    else:
        activations = per_layer * encoder.layers
    head = per_layer  # MAA, span head, auxiliary queries: about one layer
    return states + activations + head + OVERHEAD


def table() -> str:
    lines = [
        "| encoder (parameters) | setting | XLTT, 3 sequences/window | baseline, 1 sequence |",
        "|---|---|---|---|",
    ]
    for encoder in ENCODERS:
        for name, (amp, checkpointing, accum) in SETTINGS.items():
            xltt = peak_bytes(encoder, 3, amp, checkpointing, accum) / GB
            baseline = peak_bytes(encoder, 1, amp, checkpointing, accum) / GB
            lines.append(
                f"| {encoder.name} ({encoder.parameters / 1e6:.0f} M) | {name} "
                f"| ~{xltt:.0f} GB (estimated) | ~{baseline:.0f} GB (estimated) |"
            )
    return "\n".join(lines)


def check_parameter_count() -> None:
    """The formula against a real model's count: the fixture encoder (intermediate = 2h)."""
    import transformers

    model = transformers.AutoModel.from_pretrained("fixtures/tiny-xlmr", add_pooling_layer=False)
    real = sum(p.numel() for p in model.parameters())
    formula = Encoder("tiny-xlmr", vocab=3000, hidden=32, layers=2, intermediate=64).parameters
    print(f"parameters of fixtures/tiny-xlmr: counted {real}, formula {formula}")
    assert real == formula


if __name__ == "__main__":
    import sys

    if "--check" in sys.argv:
        check_parameter_count()
    print(table())
