"""
Every config in training_config/ parses and builds its reader, data loader and model with tiny
stand-ins (the fixture encoder, fixture files under the published file names): a broken
config fails here, not on a GPU a day later.
"""

import collections
import glob
import os
import shutil

import pytest
import torch
from allennlp.common import Params
from allennlp.data import DataLoader, DatasetReader, Vocabulary
from allennlp.models import Model

import xltt_plugin  # noqa: F401  (registers everything, sets the configs' env defaults)
from tests import FIXTURE_DATA, REPO, TINY_XLMR

CONFIGS = sorted(glob.glob(os.path.join(REPO, "training_config", "*.jsonnet")))

# Published file name under $XLTT_DATA -> fixture stand-in.
STAND_INS = {
    "squad/train-v1.1.json": "parallel/squad_en.json",
    "squad/train-v1.1.ja.json": "parallel/squad_ja.json",
    "squad/train-v1.1.ko.json": "parallel/squad_ko.json",
    "squad/dev-v1.1.json": "mlqa/dev-context-en-question-en.json",
    "cmrc2018/cmrc2018_train.json": "cmrc2018/cmrc_zh.json",
    "cmrc2018/cmrc2018_train.en.json": "parallel/squad_en.json",
    "cmrc2018/cmrc2018_train.ja.json": "parallel/squad_ja.json",
    "cmrc2018/cmrc2018_train.ko.json": "parallel/squad_ko.json",
    "drcd/DRCD_training.json": "drcd/drcd_zh.json",
    "drcd/DRCD_training.en.json": "parallel/squad_en.json",
    "drcd/DRCD_training.ja.json": "parallel/squad_ja.json",
    "drcd/DRCD_training.ko.json": "parallel/squad_ko.json",
    "mlqa/test/test-context-en-question-en.json": "mlqa/dev-context-en-question-en.json",
}


@pytest.fixture
def stand_in_env(tmp_path, monkeypatch):
    for published, fixture in STAND_INS.items():
        target = tmp_path / published
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(FIXTURE_DATA, fixture), target)
    monkeypatch.setenv("XLTT_DATA", str(tmp_path))
    monkeypatch.setenv("XLTT_ENCODER", TINY_XLMR)
    monkeypatch.chdir(REPO)
    return tmp_path


def test_every_paper_config_is_tested():
    names = {os.path.basename(c) for c in CONFIGS}
    assert {
        "xltt_xlmr.jsonnet",
        "xltt_mbert.jsonnet",
        "xlmr_squad.jsonnet",
        "xlmr_cascade.jsonnet",
        "xltt_tiny.jsonnet",
        "xltt_tiny_multisource.jsonnet",
    } <= names


@pytest.mark.parametrize("config", CONFIGS, ids=os.path.basename)
def test_config_builds_and_runs_one_batch(config, stand_in_env):
    params = Params.from_file(config)
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    loader = DataLoader.from_params(
        params=params.pop("data_loader"), reader=reader, data_path=params.pop("train_data_path")
    )
    vocab = Vocabulary.from_params(params.pop("vocabulary", Params({"type": "empty"})))
    loader.index_with(vocab)
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    batch = next(iter(loader))
    output = model(**batch)
    assert torch.isfinite(output["loss"])
    validation = DatasetReader.from_params(params.pop("validation_dataset_reader"))
    assert next(iter(validation.read(params.pop("validation_data_path"))))
    trainer = params.pop("trainer")
    assert trainer["validation_metric"] == "+f1"


def test_paper_configs_follow_section_5_1(stand_in_env):
    params = Params.from_file(os.path.join(REPO, "training_config", "xltt_xlmr.jsonnet"))
    os.environ["XLTT_ENCODER"] = ""
    real = Params.from_file(os.path.join(REPO, "training_config", "xltt_xlmr.jsonnet"))
    assert real["model"]["transformer_model_name"] == "xlm-roberta-large"
    trainer = params["trainer"]
    assert trainer["optimizer"]["type"] == "huggingface_adamw"
    assert trainer["optimizer"]["lr"] == pytest.approx(4e-5)
    assert trainer["learning_rate_scheduler"]["type"] == "cosine_decay"
    loader = params["data_loader"]
    assert loader["sampler"]["type"] == "task_similarity"
    # One weights object serves the sampler and the loss.
    assert (
        loader["sampler"]["task_weights"].as_dict() == params["model"]["dataset_weights"].as_dict()
    )
    assert set(params["model"]["dataset_weights"]["source_paths"]) == {"squad", "cmrc2018", "drcd"}


def test_tiny_multisource_sampler_draws_from_every_source():
    os.chdir(REPO)
    params = Params.from_file(
        os.path.join(REPO, "training_config", "xltt_tiny_multisource.jsonnet")
    )
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    loader = DataLoader.from_params(
        params=params.pop("data_loader"), reader=reader, data_path=params.pop("train_data_path")
    )
    loader.index_with(Vocabulary.empty())
    counts: collections.Counter = collections.Counter()
    for _ in range(3):
        for batch in loader:
            counts.update(batch["task"])
    assert set(counts) == {"squad", "cmrc2018", "drcd"}
    # xltt_multitask splits instances_per_epoch between the tasks without losing any.
    assert sum(counts.values()) == 3 * 96
