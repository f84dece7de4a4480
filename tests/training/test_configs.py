"""
Every config in training_config/ parses and builds its reader, data loader and model with tiny
stand-ins (the fixture encoder, fixture files under the published file names): a broken
config fails here, not on a GPU a day later.
"""

import collections
import glob
import json
import os
import re
import shutil
import subprocess

import pytest
import torch
from allennlp.common import Params
from allennlp.data import DataLoader, DatasetReader, Vocabulary
from allennlp.models import Model

import xltt_plugin  # noqa: F401  (registers everything, sets the configs' env defaults)
from tests import FIXTURE_DATA, REPO, TINY_XLMR
from tests.reliability.conftest import cli_environment

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
    "mlqa/dev/dev-context-en-question-en.json": "mlqa/dev-context-en-question-en.json",
}

# Paper Table 7: the six data-set ablations of XLTT, as XLTT_WITHOUT values.
ABLATIONS = ["cmrc2018", "drcd", "squad", "cmrc2018,drcd", "cmrc2018,squad", "squad,drcd"]

# (config, environment) runs beyond each config with its defaults.
VARIANTS = [
    *(("xltt_xlmr.jsonnet", {"XLTT_WITHOUT": without}) for without in ABLATIONS),
    ("xltt_xlmr.jsonnet", {"XLTT_WEIGHTS_IN": "sampler"}),
    ("xltt_xlmr.jsonnet", {"XLTT_WEIGHTS_IN": "both"}),
    ("xltt_xlmr.jsonnet", {"XLTT_DEV": "squad/dev-v1.1.json"}),
    ("xlmr_cascade.jsonnet", {"XLTT_LANGS": "en,ja,ko"}),
]
CASES = [(config, {}) for config in CONFIGS] + [
    (os.path.join(REPO, "training_config", config), env) for config, env in VARIANTS
]


def case_id(case: tuple[str, dict[str, str]]) -> str:
    config, env = case
    return os.path.basename(config) + "".join(f"[{k}={v}]" for k, v in env.items())


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
        "mbert_squad.jsonnet",
        "xlmr_cascade.jsonnet",
        "xlmr_translate_train.jsonnet",
        "xltt_tiny.jsonnet",
        "xltt_tiny_multisource.jsonnet",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_config_builds_and_runs_one_batch(case, stand_in_env, monkeypatch):
    config, env = case
    for name, value in env.items():
        monkeypatch.setenv(name, value)
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


def paper_config(name: str) -> Params:
    return Params.from_file(os.path.join(REPO, "training_config", name))


def test_paper_configs_follow_section_5_1(stand_in_env):
    params = paper_config("xltt_xlmr.jsonnet")
    os.environ["XLTT_ENCODER"] = ""
    real = paper_config("xltt_xlmr.jsonnet")
    assert real["model"]["transformer_model_name"] == "xlm-roberta-large"
    trainer = params["trainer"]
    assert trainer["optimizer"]["type"] == "huggingface_adamw"
    assert trainer["optimizer"]["lr"] == pytest.approx(4e-5)
    assert trainer["learning_rate_scheduler"]["type"] == "cosine_decay"
    assert params["data_loader"]["type"] == "xltt_multitask"
    assert set(params["model"]["dataset_weights"]["source_paths"]) == {"squad", "cmrc2018", "drcd"}


@pytest.mark.parametrize(
    "weights_in, sampler, loss_weights",
    [
        ("", "uniform", True),
        ("loss", "uniform", True),
        ("sampler", "task_similarity", False),
        ("both", "task_similarity", True),
    ],
)
def test_where_the_data_set_weights_act(
    weights_in, sampler, loss_weights, stand_in_env, monkeypatch
):
    monkeypatch.setenv("XLTT_WEIGHTS_IN", weights_in)
    params = paper_config("xltt_xlmr.jsonnet").as_dict()
    loader, model = params["data_loader"], params["model"]
    assert loader["sampler"]["type"] == sampler
    assert loader["instances_per_epoch"] == 120000
    assert (model["dataset_weights"] is not None) == loss_weights
    if sampler == "task_similarity" and loss_weights:
        # One weights object serves the sampler and the loss.
        assert loader["sampler"]["task_weights"] == model["dataset_weights"]
    monkeypatch.setenv("XLTT_WEIGHTS_IN", "everywhere")
    with pytest.raises(Exception, match="XLTT_WEIGHTS_IN must be"):
        paper_config("xltt_xlmr.jsonnet")


@pytest.mark.parametrize("without", ABLATIONS)
@pytest.mark.parametrize("config", ["xltt_xlmr.jsonnet", "xltt_mbert.jsonnet"])
def test_table_7_ablations_leave_sources_out(config, without, stand_in_env, monkeypatch):
    monkeypatch.setenv("XLTT_WITHOUT", without)
    params = paper_config(config).as_dict()
    kept = {"squad", "cmrc2018", "drcd"} - set(without.split(","))
    assert set(params["train_data_path"]) == kept
    assert set(params["dataset_reader"]["readers"]) == kept
    assert set(params["model"]["dataset_weights"]["source_paths"]) == kept


def test_ablation_errors_name_the_variable(stand_in_env, monkeypatch):
    monkeypatch.setenv("XLTT_WITHOUT", "cmrc")
    with pytest.raises(Exception, match="XLTT_WITHOUT: unknown source"):
        paper_config("xltt_xlmr.jsonnet")
    monkeypatch.setenv("XLTT_WITHOUT", "squad,cmrc2018,drcd")
    with pytest.raises(Exception, match="leaves no source"):
        paper_config("xltt_xlmr.jsonnet")


@pytest.mark.parametrize(
    "config, encoder",
    [
        ("xlmr_squad.jsonnet", "xlm-roberta-large"),
        ("mbert_squad.jsonnet", "bert-base-multilingual-cased"),
    ],
)
def test_squad_baselines_follow_xtremes_recipe(config, encoder, stand_in_env, monkeypatch):
    # google-research/xtreme scripts/train_qa.sh and third_party/run_squad.py
    monkeypatch.setenv("XLTT_ENCODER", "")
    params = paper_config(config).as_dict()
    assert params["model"]["transformer_model_name"] == encoder
    assert params["model"]["maa"] is None and params["model"]["aux_loss_weight"] == 0
    assert params["model"]["max_answer_length"] == 30
    reader = params["dataset_reader"]["readers"]["squad"]
    assert (reader["length_limit"], reader["stride"], reader["max_query_length"]) == (384, 128, 64)
    assert params["data_loader"]["scheduler"]["batch_size"] == 32
    trainer = params["trainer"]
    assert trainer["num_epochs"] == 3 and trainer["grad_norm"] == 1.0
    assert trainer["optimizer"]["lr"] == pytest.approx(3e-5)
    assert trainer["optimizer"]["weight_decay"] == pytest.approx(1e-4)
    assert trainer["optimizer"]["eps"] == pytest.approx(1e-8)
    assert trainer["learning_rate_scheduler"] == {"type": "linear_with_warmup", "warmup_steps": 500}


CHINESE_ORIGINALS = ("cmrc2018/cmrc2018_train.json", "drcd/DRCD_training.json")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_no_config_trains_on_the_chinese_originals(case, stand_in_env, monkeypatch):
    config, env = case
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    paths = paper_config(config)["train_data_path"]
    paths = paths.as_dict().values() if isinstance(paths, Params) else [paths]
    assert paths and not [p for p in paths if p.endswith(CHINESE_ORIGINALS)]


def test_model_selection_on_mlqa_english_dev_by_default(stand_in_env, monkeypatch):
    for config in ["xltt_xlmr.jsonnet", "xlmr_squad.jsonnet", "xlmr_translate_train.jsonnet"]:
        path = paper_config(config)["validation_data_path"]
        assert path == str(stand_in_env / "mlqa/dev/dev-context-en-question-en.json")
    monkeypatch.setenv("XLTT_DEV", "squad/dev-v1.1.json")
    assert paper_config("xltt_xlmr.jsonnet")["validation_data_path"] == str(
        stand_in_env / "squad/dev-v1.1.json"
    )


def test_translate_train_mixes_pivots_and_translations_as_plain_instances(
    stand_in_env, monkeypatch
):
    params = paper_config("xlmr_translate_train.jsonnet").as_dict()
    readers = params["dataset_reader"]["readers"]
    expected = {
        f"{s}{suffix}" for s in ("squad", "cmrc2018", "drcd") for suffix in ("", "_ja", "_ko")
    }
    assert set(readers) == expected == set(params["train_data_path"])
    assert {r["type"] for r in readers.values()} == {"xltt_squad"}
    assert readers["drcd_ko"]["language"] == "ko"
    assert params["train_data_path"]["drcd_ko"].endswith("drcd/DRCD_training.ko.json")
    model = params["model"]
    assert model["maa"] is None and model["aux_loss_weight"] == 0
    assert "dataset_weights" not in model
    assert params["trainer"]["learning_rate_scheduler"]["type"] == "cosine_decay"
    # The paper's Translate-Train: SQuAD translated into the test languages.
    monkeypatch.setenv("XLTT_WITHOUT", "cmrc2018,drcd")
    monkeypatch.setenv("XLTT_LANGS", "en,de,hi")
    paths = paper_config("xlmr_translate_train.jsonnet")["train_data_path"].as_dict()
    assert paths == {
        "squad": str(stand_in_env / "squad/train-v1.1.json"),
        "squad_de": str(stand_in_env / "squad/train-v1.1.de.json"),
        "squad_hi": str(stand_in_env / "squad/train-v1.1.hi.json"),
    }


def test_cascade_stage_starts_from_the_previous_stages_weights(stand_in_env, tmp_path, monkeypatch):
    first = paper_config("xlmr_cascade.jsonnet")
    assert list(first["train_data_path"]) == ["squad"]
    previous = Model.from_params(vocab=Vocabulary.empty(), params=first.pop("model"))
    torch.manual_seed(3)
    with torch.no_grad():
        for parameter in previous.parameters():
            parameter.normal_()
    weights = tmp_path / "stage1" / "best.th"
    weights.parent.mkdir()
    torch.save(previous.state_dict(), weights)

    monkeypatch.setenv("XLTT_CASCADE_STAGE", "cmrc2018")
    with pytest.raises(Exception, match="set XLTT_INIT_WEIGHTS"):
        paper_config("xlmr_cascade.jsonnet")
    monkeypatch.setenv("XLTT_INIT_WEIGHTS", str(weights))
    second = paper_config("xlmr_cascade.jsonnet")
    assert second["train_data_path"].as_dict() == {
        "cmrc2018": str(stand_in_env / "cmrc2018/cmrc2018_train.en.json")
    }
    # XTREME's warm-up fraction (500 of ~8,300 SQuAD steps) scaled to a CMRC2018 stage
    assert second["trainer"]["learning_rate_scheduler"]["warmup_steps"] == 60
    model = Model.from_params(vocab=Vocabulary.empty(), params=second.pop("model"))
    loaded = dict(model.named_parameters())
    expected = dict(previous.named_parameters())
    assert loaded.keys() == expected.keys()
    for name, parameter in expected.items():
        assert torch.equal(loaded[name], parameter), name


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


@pytest.mark.slow
def test_run_cascade_script_chains_the_stages(stand_in_env, tmp_path, monkeypatch):
    out = tmp_path / "cascade"
    env = cli_environment(
        XLTT_CUDA_DEVICE="-1", XLTT_TRAIN_OVERRIDES=json.dumps({"trainer.num_epochs": 1})
    )
    command = [os.path.join(REPO, "scripts", "run_cascade.sh"), str(out), "squad", "cmrc2018"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = out / "1-squad", out / "2-cmrc2018"
    assert (first / "model.tar.gz").is_file() and (second / "model.tar.gz").is_file()
    config = json.loads((second / "config.json").read_text())
    assert list(config["train_data_path"]) == ["cmrc2018"]
    (regex, initializer), *_ = config["model"]["initializer"]["regexes"]
    assert regex == ".*" and initializer["weights_file_path"] == str(first / "model.tar.gz")
    assert "initializer" not in json.loads((first / "config.json").read_text())["model"]
    # AllenNLP logs every parameter the `pretrained` initializer loads.
    assert re.search(r"Initializing \S+ using \.\* initializer", (second / "out.log").read_text())
    # A finished stage is kept: running the chain again trains nothing.
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stderr.count("already trained") == 2
