"""
xltt-plugin: XLTT (Cross-Lingual Transposition ReThinking) for AllenNLP.

AllenNLP imports plugins non-recursively, so this module imports every module that registers
something (readers, data loaders, modules, models, metrics, predictors, samplers,
subcommands).
"""

from xltt_plugin.commands import check_data, report, score, similarity, translate
from xltt_plugin.data import (
    instance_cache,
    xltt_multitask_loader,
    xltt_parallel_reader,
    xltt_squad_reader,
    xltt_translated_reader,
)
from xltt_plugin.metrics import mlqa_em_f1
from xltt_plugin.models import xltt
from xltt_plugin.modules import maa
from xltt_plugin.predictors import xltt_predictor
from xltt_plugin.training import (
    cosine_decay,
    task_similarity_sampler,
    torch_rng_state,
    xltt_evaluator,
)
from xltt_plugin.training.config_env import set_config_defaults

set_config_defaults()

__all__ = [
    "check_data",
    "cosine_decay",
    "instance_cache",
    "maa",
    "mlqa_em_f1",
    "report",
    "score",
    "similarity",
    "task_similarity_sampler",
    "torch_rng_state",
    "translate",
    "xltt",
    "xltt_evaluator",
    "xltt_multitask_loader",
    "xltt_parallel_reader",
    "xltt_predictor",
    "xltt_squad_reader",
    "xltt_translated_reader",
]
