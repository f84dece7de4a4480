"""Per-language SQuAD/MLQA exact match and F1, accumulated over questions."""

from collections.abc import Iterable, Mapping, Sequence

import torch.distributed as dist
from allennlp.common.util import is_distributed
from allennlp.training.metrics.metric import Metric

from xltt_plugin.metrics.normalization import check_mode, language_rule, max_over_gold_answers

# Per-language running totals: (sum of EM, sum of F1, number of questions).
LanguageTotals = tuple[float, float, int]


def merge_totals(states: Iterable[Mapping[str, LanguageTotals]]) -> dict[str, LanguageTotals]:
    """
    Sum per-language totals from several workers; languages may differ between workers.

    # Parameters

    states : `Iterable[Mapping[str, LanguageTotals]]`
        One `{language: (em_sum, f1_sum, count)}` mapping per worker, in rank order (the order
        fixes the floating-point summation, so every worker gets the same result).
    """
    merged: dict[str, LanguageTotals] = {}
    for state in states:
        for language, (em, f1, count) in state.items():
            total_em, total_f1, total_count = merged.get(language, (0.0, 0.0, 0))
            merged[language] = (total_em + em, total_f1 + f1, total_count + count)
    return merged


def summarize_totals(totals: Mapping[str, LanguageTotals]) -> dict[str, float]:
    """
    The metric's report from per-language totals, every value on a 0-1 scale.

    # Returns

    `dict[str, float]`
        - `em`, `f1`: micro averages over all questions of all languages;
        - `em_<lang>`, `f1_<lang>`: averages over the questions of one language;
        - `em_avg`, `f1_avg`: macro averages, the unweighted mean of the per-language scores
          (the paper's "Avg" column).

        With no question scored, every value is 0.
    """
    report: dict[str, float] = {}
    all_em = all_f1 = 0.0
    all_count = 0
    macro_em = macro_f1 = 0.0
    languages = [language for language in sorted(totals) if totals[language][2] > 0]
    for language in languages:
        em, f1, count = totals[language]
        report[f"em_{language}"] = em / count
        report[f"f1_{language}"] = f1 / count
        macro_em += em / count
        macro_f1 += f1 / count
        all_em += em
        all_f1 += f1
        all_count += count
    report["em"] = all_em / all_count if all_count else 0.0
    report["f1"] = all_f1 / all_count if all_count else 0.0
    report["em_avg"] = macro_em / len(languages) if languages else 0.0
    report["f1_avg"] = macro_f1 / len(languages) if languages else 0.0
    return report


@Metric.register("mlqa_em_f1")
class MlqaEmAndF1(Metric):
    """
    Exact match and F1 of predicted answer strings against gold answer strings, normalised
    per language as the official MLQA script does (`mode="mlqa"`, extended to every XQuAD and
    TyDi QA language) or as the SQuAD v1.1 script does (`mode="squad"`). Call it once per
    question, after the answer has been decoded across all its windows.

    Registered as a `Metric` with name `mlqa_em_f1`.

    `get_metric` reports, on a 0-1 scale (like allennlp-models' `squad` metric):
    `em` and `f1` (micro averages over all questions), `em_<lang>` and `f1_<lang>` per
    language seen, and `em_avg` and `f1_avg` (macro averages over those languages: the
    paper's "Avg"). In distributed training every worker gets the totals of all workers.

    # Parameters

    mode : `str`, optional (default = `"mlqa"`)
        `"mlqa"` or `"squad"`.
    """

    supports_distributed = True

    def __init__(self, mode: str = "mlqa") -> None:
        self._mode = check_mode(mode)
        self._totals: dict[str, LanguageTotals] = {}

    def __call__(  # type: ignore[override]
        self,
        best_span_strings: Sequence[str] | str,
        answer_strings: Sequence[Sequence[str]] | Sequence[str],
        languages: Sequence[str] | str,
    ) -> None:
        """
        # Parameters

        best_span_strings : `Sequence[str] | str`
            The predicted answer of each question (a single string for one question).
        answer_strings : `Sequence[Sequence[str]]`
            The gold answers of each question (a flat list of strings for one question).
        languages : `Sequence[str] | str`
            The answer (context) language of each question, or one code for all of them.
        """
        if isinstance(best_span_strings, str):
            best_span_strings = [best_span_strings]
            answer_strings = [answer_strings]  # type: ignore[list-item]
        if isinstance(languages, str):
            languages = [languages] * len(best_span_strings)
        if not len(best_span_strings) == len(answer_strings) == len(languages):
            raise ValueError(
                f"got {len(best_span_strings)} predictions, {len(answer_strings)} gold answer "
                f"lists and {len(languages)} languages; expected one of each per question"
            )
        for prediction, gold_answers, language in zip(best_span_strings, answer_strings, languages):
            if isinstance(gold_answers, str):
                raise TypeError(
                    f"gold answers must be a list of strings per question, got {gold_answers!r}"
                )
            if self._mode == "mlqa":
                language_rule(language)  # fail on an unknown code before scoring anything
            em, f1 = max_over_gold_answers(prediction, gold_answers, language, self._mode)
            total_em, total_f1, count = self._totals.get(language, (0.0, 0.0, 0))
            self._totals[language] = (total_em + em, total_f1 + f1, count + 1)

    def get_metric(self, reset: bool = False) -> dict[str, float]:
        """See the class docstring for the keys."""
        totals = self._totals
        if is_distributed():
            # Workers may have seen different languages: gather whole states, not tensors.
            gathered: list[dict[str, LanguageTotals] | None] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, totals)
            totals = merge_totals(state for state in gathered if state is not None)
        report = summarize_totals(totals)
        if reset:
            self.reset()
        return report

    def reset(self) -> None:
        self._totals = {}

    def __str__(self) -> str:
        return f"MlqaEmAndF1(mode={self._mode!r}, totals={self._totals})"
