"""
The `xltt` evaluator: AllenNLP's simple evaluator, with the test mode (design README §7) checked
against the model and written into the metrics.
"""

import logging
from os import PathLike
from typing import Any

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import dump_metrics
from allennlp.data import DataLoader
from allennlp.evaluation.evaluator import Evaluator, SimpleEvaluator
from allennlp.models import Model

logger = logging.getLogger(__name__)

SELF_MODE = "self"


def mode_labels(reader: Any) -> dict[str, Any]:
    """
    The test-mode labels of an evaluation reader: `test_mode` (`"self"` for a reader without
    translations, `"translated: ja,ko"` for `xltt_translated`, `"parallel: ja,ko"` for
    `xltt_parallel`, whose translations carry gold answers), `translation_files` and, per slot
    language, `translation_fallbacks` (target questions whose slot fell back to self).
    """
    languages = getattr(reader, "parallel_languages", None)
    if not languages:
        return {"test_mode": SELF_MODE}
    mode = getattr(reader, "test_mode", None) or "parallel: " + ",".join(languages)
    labels: dict[str, Any] = {
        "test_mode": mode,
        "translation_files": dict(getattr(reader, "last_translation_files", {}) or {}),
    }
    stats = getattr(reader, "last_read_stats", None)
    translations = getattr(stats, "translations", None) or {}
    labels["translation_fallbacks"] = {
        language: int(translations.get(language, {}).get("missing_question", 0))
        for language in languages
    }
    return labels


def check_slots(model: Model, reader: Any, source: str = "") -> None:
    """
    A clear error when the reader fills a different number of parallel slots than the model
    was trained with (`num_parallel`).
    """
    languages = getattr(reader, "parallel_languages", None)
    expected = getattr(model, "num_parallel", None)
    if not languages or expected is None or len(languages) == expected:
        return
    files = getattr(reader, "parallel_files", None) or {}
    raise ConfigurationError(
        f"{source or 'evaluation data'}: the reader fills {len(languages)} parallel slot(s) "
        f"{list(languages)} (files {files or 'derived from the target name'}), but the model "
        f"was trained with {expected}; give one translation per training slot language, in "
        "the training order"
    )


@Evaluator.register("xltt")
class XlttEvaluator(SimpleEvaluator):
    """
    AllenNLP's `simple` evaluator, for the `xltt` model: before evaluating it checks that the
    reader fills as many parallel slots as the model was trained with, and it adds the test
    mode to the metrics it returns and writes (`test_mode`: `"self"` or
    `"translated: ja,ko"`; with translations also `translation_files` and, per language,
    `translation_fallbacks`, the target questions whose translation was missing). Select it with
    `--overrides '{"evaluation": {"type": "xltt"}}'` (README "Test modes").

    Registered as an `Evaluator` with name `xltt`.

    # Parameters

    As for `SimpleEvaluator`.
    """

    def __call__(
        self,
        model: Model,
        data_loader: DataLoader,
        batch_weight_key: str | None = None,
        metrics_output_file: str | PathLike | None = None,
        predictions_output_file: str | PathLike | None = None,
    ) -> dict[str, Any]:
        reader = getattr(data_loader, "reader", None)
        source = str(getattr(data_loader, "data_path", ""))
        check_slots(model, reader, source)
        metrics: dict[str, Any] = super().__call__(
            model,
            data_loader,
            batch_weight_key,  # type: ignore[arg-type]
            metrics_output_file=None,  # type: ignore[arg-type]
            predictions_output_file=predictions_output_file,  # type: ignore[arg-type]
        )
        labels = mode_labels(reader)
        metrics.update(labels)
        logger.info("Test mode of %s: %s", source, labels)
        if metrics_output_file is not None:
            dump_metrics(str(metrics_output_file), metrics, log=True)
        return metrics
