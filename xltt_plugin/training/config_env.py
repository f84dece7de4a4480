"""Documented defaults for the `std.extVar` variables of the configs in `training_config/`."""

import os

# Jsonnet's std.extVar fails on an unset variable, and AllenNLP passes the environment as the
# external variables; the plugin (imported before any config is read) fills in these defaults.
CONFIG_DEFAULTS = {
    # Root folder of the published data files (see training_config/xltt_common.libsonnet).
    "XLTT_DATA": "data",
    # "" = each config's own encoder (xlm-roberta-large, bert-base-multilingual-cased, ...).
    "XLTT_ENCODER": "",
    # "" = the config's default device (GPU 0 for the paper configs); "-1" for CPU.
    "XLTT_CUDA_DEVICE": "",
    # GPU memory knobs of the paper configs (README "GPU memory"); "" = off / 1.
    "XLTT_AMP": "",  # "1": AllenNLP's use_amp (float16 autocast, gradient scaling)
    "XLTT_GRAD_CKPT": "",  # "1": gradient checkpointing of the encoder
    "XLTT_GRAD_ACCUM": "",  # n: n micro-batches of batch_size / n per optimizer step
}


def set_config_defaults() -> None:
    """Set each variable of `CONFIG_DEFAULTS` that the environment does not already set."""
    for name, value in CONFIG_DEFAULTS.items():
        os.environ.setdefault(name, value)
