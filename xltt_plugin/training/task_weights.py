"""
`TaskWeights`: the per-data-set weights of XLTT (eq. 18-19), shared by the multi-task sampler and
the loss (eq. 22).
"""

import logging
import math
import os

from allennlp.common import FromParams
from allennlp.common.checks import ConfigurationError
from allennlp.common.file_utils import cached_path

from xltt_plugin.training.task_similarity import TaskSimilarity, task_similarity_from_files

logger = logging.getLogger(__name__)

# (file identities, temperature, analyzer, ngram_range) -> result; see `TaskWeights`.
_CacheKey = tuple[object, ...]
_CACHE: dict[_CacheKey, TaskSimilarity] = {}


def _file_identity(path: str) -> tuple[str, int, int]:
    status = os.stat(path)
    return os.path.abspath(path), status.st_mtime_ns, status.st_size


def clear_cache() -> None:
    """Forget every cached similarity computation (for tests)."""
    _CACHE.clear()


class TaskWeights(FromParams):
    """
    The weight of each training data set (task), either given or computed as XLTT's TF-IDF
    task-level similarity to a target question collection (`task_similarity_from_files`).

    One object is meant to be used twice in a config, as the `task_weights` of the
    `task_similarity` sampler and as the model's `dataset_weights` (a Jsonnet `local`). AllenNLP
    builds it once per use; the computation is cached at module level, keyed by the files
    (absolute path, modification time, size) and the settings, so it runs once per process.
    The computation is lazy (it runs at the first `as_dict()` / `cosines()`): the sampler forces
    it at construction so that a bad file fails early, while a model restored from an archive
    does not need the training files unless it asks for the weights.

    # Parameters

    weights : `Dict[str, float]`, optional (default = `None`)
        Precomputed weights by task name; non-negative, finite, not all zero. Used as given (the
        sampler normalises them over the tasks it samples from; the loss uses them as they are).
    target_path : `str`, optional (default = `None`)
        SQuAD-format file whose questions are the target (the paper: MLQA English test).
    source_paths : `Dict[str, str]`, optional (default = `None`)
        One SQuAD-format file per task name (the names of the `MultiTaskDatasetReader`).
    temperature : `float`, optional (default = `1.0`)
        Softmax temperature (1 is the paper's).
    analyzer : `str`, optional (default = `"word"`)
        TF-IDF analyzer: `word`, `char`, `char_wb` or `spacy:LANG` (e.g. `spacy:zh`).
    ngram_range : `Tuple[int, int]`, optional (default = `(1, 1)`)
        TF-IDF n-gram range.

    Exactly one of `weights` or (`target_path` and `source_paths`) must be given.
    """

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        target_path: str | None = None,
        source_paths: dict[str, str] | None = None,
        temperature: float = 1.0,
        analyzer: str = "word",
        ngram_range: tuple[int, int] = (1, 1),
    ) -> None:
        from_files = target_path is not None or source_paths is not None
        if weights is not None and from_files:
            raise ConfigurationError(
                "TaskWeights: give either `weights` or `target_path` + `source_paths`, not both"
            )
        if weights is None and not from_files:
            raise ConfigurationError(
                "TaskWeights: give either `weights` or `target_path` + `source_paths`"
            )
        self._weights: dict[str, float] | None = None
        self._cosines: dict[str, float] | None = None
        self._target_path = target_path
        self._source_paths = dict(source_paths) if source_paths is not None else None
        self._temperature = float(temperature)
        self._analyzer = analyzer
        self._ngram_range: tuple[int, int] = (int(ngram_range[0]), int(ngram_range[-1]))
        if weights is not None:
            self._weights = self._check_weights(weights)
            return
        if target_path is None or not source_paths:
            raise ConfigurationError(
                "TaskWeights: `target_path` and a non-empty `source_paths` must be given together"
            )
        if not (math.isfinite(self._temperature) and self._temperature > 0):
            raise ConfigurationError(
                f"TaskWeights: temperature must be positive and finite, got {temperature}"
            )
        if len(tuple(ngram_range)) != 2 or not 1 <= self._ngram_range[0] <= self._ngram_range[1]:
            raise ConfigurationError(
                f"TaskWeights: ngram_range must be [min_n, max_n] with 1 <= min_n <= max_n, "
                f"got {ngram_range}"
            )

    @staticmethod
    def _check_weights(weights: dict[str, float]) -> dict[str, float]:
        if not weights:
            raise ConfigurationError("TaskWeights: `weights` is empty")
        checked: dict[str, float] = {}
        for name, value in weights.items():
            number = float(value)
            if not math.isfinite(number) or number < 0:
                raise ConfigurationError(
                    f"TaskWeights: weight of task {name!r} must be finite and >= 0, got {value}"
                )
            checked[name] = number
        if sum(checked.values()) <= 0:
            raise ConfigurationError("TaskWeights: all weights are zero")
        return checked

    def _compute(self) -> None:
        assert self._target_path is not None and self._source_paths is not None
        try:
            target = cached_path(self._target_path)
            sources = {name: cached_path(path) for name, path in self._source_paths.items()}
            key: _CacheKey = (
                _file_identity(target),
                tuple((name, _file_identity(path)) for name, path in sources.items()),
                self._temperature,
                self._analyzer,
                self._ngram_range,
            )
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"TaskWeights: {error}") from error
        result = _CACHE.get(key)
        if result is None:
            try:
                result = task_similarity_from_files(
                    target, sources, self._temperature, self._analyzer, self._ngram_range
                )
            except ValueError as error:  # includes SquadFormatError, which names the file
                raise ConfigurationError(f"TaskWeights: {error}") from error
            _CACHE[key] = result
            logger.info(
                "Task similarity to %s (temperature %s, analyzer %s): %s",
                self._target_path,
                self._temperature,
                self._analyzer,
                ", ".join(
                    f"{name} cosine {result.cosine[name]:.4f} weight {result.weights[name]:.4f}"
                    for name in result.cosine
                ),
            )
        self._cosines = dict(result.cosine)
        self._weights = dict(result.weights)

    def as_dict(self) -> dict[str, float]:
        """
        The weight of each task, by task name (a copy).
        """
        if self._weights is None:
            self._compute()
        assert self._weights is not None
        return dict(self._weights)

    def cosines(self) -> dict[str, float] | None:
        """
        The raw TF-IDF cosine of each task to the target, by task name (a copy); `None` when the
        weights were given rather than computed.
        """
        if self._weights is None:
            self._compute()
        return None if self._cosines is None else dict(self._cosines)
