"""
The learning-rate schedule of each training config before and after the `xltt_multitask`
loader: the scheduler's total steps (num_epochs x len(loader)) against the batches the loader
really yields, and the rate at the real warm-up end and at the last real step.

"before" = the same config with AllenNLP's own `multitask` loader. Each config's loader is
built on the fixture stand-ins of tests/training/test_configs.py (tiny encoder): with
`instances_per_epoch` the batch counts do not depend on the data size (the paper configs'
counts are the real ones, up to the TF-IDF weights of the stand-ins); without it they are the
stand-ins' counts.

    PYTHONPATH=$PWD .venv/bin/python scripts/schedule_report.py
"""

import math
import os
import shutil
import sys
import tempfile
from typing import Any

from allennlp.common import Params
from allennlp.data import DataLoader, DatasetReader, Vocabulary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import xltt_plugin  # noqa: E402, F401
from tests import FIXTURE_DATA, TINY_XLMR  # noqa: E402
from tests.training.test_configs import STAND_INS  # noqa: E402
from xltt_plugin.training.cosine_decay import cosine_decay_factor  # noqa: E402

RUNS: list[tuple[str, dict[str, str]]] = [
    ("xltt_tiny_multisource.jsonnet", {}),
    ("xltt_xlmr.jsonnet", {}),
    ("xltt_xlmr.jsonnet", {"XLTT_WITHOUT": "cmrc2018"}),
    ("xltt_mbert.jsonnet", {}),
    ("xlmr_squad.jsonnet", {}),
    ("xlmr_translate_train.jsonnet", {}),
    ("xlmr_cascade.jsonnet", {}),
]


def factor(scheduler: dict[str, Any], step: int, total: int) -> float:
    """The rate multiplier at optimizer step `step` of a run the scheduler thinks is `total`."""
    if scheduler["type"] == "cosine_decay":
        if "warmup_ratio" in scheduler:
            warmup = round(scheduler["warmup_ratio"] * total)
        else:
            warmup = scheduler.get("warmup_steps", 0)
        return cosine_decay_factor(step, warmup, total)
    if scheduler["type"] == "linear_with_warmup":  # AllenNLP's PolynomialDecay, power 1
        warmup = scheduler.get("warmup_steps", 100)
        if step <= warmup:
            return step / warmup
        return max(0.0, (total - step) / (total - warmup))
    raise ValueError(scheduler["type"])


def batches(config: str, loader_type: str) -> tuple[int, int, dict[str, Any]]:
    params = Params.from_file(os.path.join(REPO, "training_config", config))
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    loader_params = params.pop("data_loader")
    loader_params["type"] = loader_type
    loader = DataLoader.from_params(
        params=loader_params, reader=reader, data_path=params.pop("train_data_path")
    )
    loader.index_with(Vocabulary.empty())
    # One epoch's batches as __iter__ forms them, without tensorising them.
    yielded = sum(1 for _ in loader.scheduler.batch_instances(loader._get_instances_for_epoch()))
    return len(loader), yielded, params.pop("trainer").as_dict()


def main() -> None:
    data = tempfile.mkdtemp()
    try:
        for published, fixture in STAND_INS.items():
            os.makedirs(os.path.dirname(os.path.join(data, published)), exist_ok=True)
            shutil.copy(os.path.join(FIXTURE_DATA, fixture), os.path.join(data, published))
        os.environ.update(XLTT_DATA=data, XLTT_ENCODER=TINY_XLMR)
        os.chdir(REPO)
        print(
            "| config | loader | steps: scheduler / real | warm-up end (step) | lr there "
            "| lr at last step |"
        )
        print("|---|---|---|---|---|---|")
        for config, env in RUNS:
            saved = {name: os.environ.get(name, "") for name in env}
            os.environ.update(env)
            name = config + "".join(f" {k}={v}" for k, v in env.items())
            _, fixed_yield, trainer = batches(config, "xltt_multitask")
            scheduler, epochs = trainer["learning_rate_scheduler"], trainer["num_epochs"]
            peak = trainer["optimizer"]["lr"]
            real_total = epochs * fixed_yield
            # The real run's warm-up end: where the schedule built on the true count peaks.
            if "warmup_ratio" in scheduler:
                warmup_end = round(scheduler["warmup_ratio"] * real_total)
            else:
                warmup_end = min(scheduler.get("warmup_steps", 100), real_total)
            for label, loader_type in [("before", "multitask"), ("after", "xltt_multitask")]:
                claimed, yielded, _ = batches(config, loader_type)
                total, real = epochs * claimed, epochs * yielded
                print(
                    f"| {name} | {label}: `{loader_type}` | {total} / {real} | {warmup_end} "
                    f"| {peak * factor(scheduler, warmup_end, total):.3g} "
                    f"| {peak * factor(scheduler, real, total):.3g} |"
                )
            for key, value in saved.items():
                os.environ[key] = value
            assert math.isfinite(peak)
    finally:
        shutil.rmtree(data)


if __name__ == "__main__":
    main()
