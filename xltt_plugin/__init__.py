"""
xltt-plugin: XLTT (Cross-Lingual Transposition ReThinking) for AllenNLP.

AllenNLP imports plugins non-recursively, so this module imports every module that registers
something (readers, modules, models, metrics, predictors, samplers, subcommands).
"""

from xltt_plugin.commands import score, similarity
from xltt_plugin.metrics import mlqa_em_f1
from xltt_plugin.models import xltt
from xltt_plugin.modules import maa
from xltt_plugin.training import task_similarity_sampler

__all__ = ["maa", "mlqa_em_f1", "score", "similarity", "task_similarity_sampler", "xltt"]
