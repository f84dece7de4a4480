"""`ReadStats`: what a reader counted while reading one file."""

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class ReadStats:
    """
    Counts kept by a reader while reading one file (one shard of it under sharded reading).

    `skipped` maps a reason to how often something was left out: in training
    (`skip_impossible_questions=True`) whole questions or windows are dropped; in evaluation
    every question still yields instances and the count records gold answers that got no span.
    `dropped` maps a reason to the ids of the questions left out entirely in training (every
    one is logged by id). `translations` maps a translation language to event counts
    (`xltt_parallel` only).
    """

    file: str = ""
    language: str = ""
    questions: int = 0
    questions_with_instances: int = 0
    instances: int = 0
    repaired: int = 0
    skipped: Counter = field(default_factory=Counter)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    translations: dict[str, Counter] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "language": self.language,
            "questions": self.questions,
            "questions_with_instances": self.questions_with_instances,
            "instances": self.instances,
            "repaired": self.repaired,
            "skipped": dict(sorted(self.skipped.items())),
            "dropped": {reason: list(ids) for reason, ids in sorted(self.dropped.items())},
            "translations": {
                lang: dict(sorted(counts.items())) for lang, counts in self.translations.items()
            },
        }

    def log(self, log: logging.Logger = logger) -> None:
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "none"
        log.info(
            "Read %s (%s): %d questions, %d instances, %d answers repaired; skipped: %s",
            self.file,
            self.language,
            self.questions,
            self.instances,
            self.repaired,
            skipped,
        )
        for reason, ids in sorted(self.dropped.items()):
            log.info(
                "  dropped in training (%s), %d questions: %s", reason, len(ids), ", ".join(ids)
            )
        for lang, counts in sorted(self.translations.items()):
            log.info(
                "  translation %s: %s",
                lang,
                ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none",
            )
