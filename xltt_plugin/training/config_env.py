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
    # "" = select models on MLQA's English dev set (mlqa/dev/dev-context-en-question-en.json).
    "XLTT_DEV": "",
    # "" = train on every source; "cmrc2018,drcd" etc. leaves sources out (paper Table 7).
    "XLTT_WITHOUT": "",
    # "" = "loss": where the TF-IDF data-set weights act ("loss", "sampler" or "both").
    "XLTT_WEIGHTS_IN": "",
    # "" = each config's languages of plain-instance files (translate-train en,ja,ko; cascade en).
    "XLTT_LANGS": "",
    # The stage of xlmr_cascade.jsonnet ("" = squad) and the previous stage's archive ("" =
    # none); scripts/run_cascade.sh sets both.
    "XLTT_CASCADE_STAGE": "",
    "XLTT_INIT_WEIGHTS": "",
    # GPU memory knobs of the paper configs (README "GPU: mixed precision, ..."); "" = off / 1.
    "XLTT_AMP": "",  # "1": AllenNLP's use_amp (float16 autocast, gradient scaling)
    "XLTT_GRAD_CKPT": "",  # "1": gradient checkpointing of the encoder
    "XLTT_GRAD_ACCUM": "",  # n: n micro-batches of batch_size / n per optimizer step
    # "" = "paper": the MAA layer of the xltt_* configs ("paper" eq. 10 as printed, "cross").
    "XLTT_MAA": "",
}


def set_config_defaults() -> None:
    """Set each variable of `CONFIG_DEFAULTS` that the environment does not already set."""
    for name, value in CONFIG_DEFAULTS.items():
        os.environ.setdefault(name, value)
