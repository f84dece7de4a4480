"""
The prepared GPU check (`make gpu-check` on a CUDA machine; under 8 minutes on one GPU).

1. Trains the tiny config (fixtures/tiny-xlmr) with AllenNLP's `use_amp` and in float32, and
   the same set-up with a multilingual encoder (`--encoder PATH`, e.g. the multilingual-e5-small
   folder of scripts/multilingual_e5.py; without one, an XLM-R-base-sized encoder with random
   weights and the tiny tokenizer is built on the spot), for `--steps` steps each; every
   training loss is recorded (a callback) and must be finite.
2. Predicts (the `xltt` predictor, the whole dev file) and scores each archive (official
   EM/F1), and runs the AMP-trained model over the dev windows in float32 and under autocast
   (float16, bfloat16): logits finite, and the same answers as float32 up to near ties (a
   differing window's float32 score within 4·d of float32's best, d the largest logit
   difference: the bound rounding can move two spans' scores apart).
3. Training throughput (windows/s) of xltt and allennlp-models' `transformer_qa`, side by side
   in one run on the same windows, float32 and mixed precision, for each encoder.
4. Distributed training through AllenNLP's `distributed` on one device (GPU 0).

`--cpu` runs the same on CPU (the dry run: AMP training is GPU-only in AllenNLP, so the "amp"
runs train in float32 there, and autocast uses bfloat16 and float16 on CPU); the default
steps shrink. Prints one line per check and `gpu_check: OK` (exit 0) or the failures (exit 1);
`--out DIR` keeps the runs and a `summary.json`.

    python scripts/gpu_check.py [--cpu] [--encoder PATH] [--steps N] [--out DIR]
"""

import argparse
import copy
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from allennlp.common import Params
from allennlp.data import Batch, DatasetReader, Instance, Vocabulary
from allennlp.models import Model, load_archive
from allennlp.nn import util as nn_util
from allennlp.training.callbacks import TrainerCallback

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "fixtures" / "tiny-xlmr"
TRAIN = REPO / "fixtures" / "data" / "parallel" / "squad_en.json"
DEV = REPO / "fixtures" / "data" / "mlqa" / "dev-context-en-question-en.json"
CONFIG = REPO / "training_config" / "xltt_tiny.jsonnet"
LOSSES = "gpu_check_losses.jsonl"

# In the distributed workers: the process-group backend to use instead of AllenNLP's choice.
_BACKEND = os.environ.get("GPU_CHECK_DIST_BACKEND")
if _BACKEND:
    _init_process_group = torch.distributed.init_process_group

    def _init_with_backend(*args: Any, **kwargs: Any) -> Any:
        kwargs["backend"] = _BACKEND
        return _init_process_group(*args, **kwargs)

    torch.distributed.init_process_group = _init_with_backend


@TrainerCallback.register("gpu_check_losses", exist_ok=True)
class LossRecorder(TrainerCallback):
    """Appends every training batch's loss (and gradient norm) to `gpu_check_losses.jsonl`."""

    def on_batch(  # type: ignore[override]
        self,
        trainer: Any,
        batch_inputs: list[dict[str, Any]],
        batch_outputs: list[dict[str, Any]],
        batch_metrics: dict[str, Any],
        epoch: int,
        batch_number: int,
        is_training: bool,
        is_primary: bool = True,
        batch_grad_norm: float | None = None,
        **kwargs: Any,
    ) -> None:
        if not is_training:
            return
        rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        with open(Path(self.serialization_dir) / LOSSES, "a") as out:
            for output in batch_outputs:
                loss = float(output["loss"].detach())
                record = {"rank": rank, "loss": loss, "grad_norm": batch_grad_norm}
                out.write(json.dumps(record) + "\n")


class Check:
    """Collects named results and failures; prints each as it comes."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.failures: list[str] = []

    def record(self, name: str, value: Any, ok: bool = True, note: str = "") -> None:
        self.results[name] = value
        status = "ok  " if ok else "FAIL"
        print(f"[{status}] {name}: {json.dumps(value)}{'  ' + note if note else ''}", flush=True)
        if not ok:
            self.failures.append(name)


# ---------------------------------------------------------------- encoders
def random_encoder(folder: Path, layers: int, hidden: int) -> Path:
    """An XLM-R encoder of `layers` × `hidden` (12 × 768: XLM-R base's body) with random
    weights and the tiny tokenizer, saved as a Hugging Face folder."""
    import transformers

    config = transformers.XLMRobertaConfig.from_pretrained(TINY)
    config.update(
        {"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": hidden // 64}
        | {"intermediate_size": 4 * hidden}
    )
    torch.manual_seed(0)
    transformers.XLMRobertaModel(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(TINY / name, folder / name)
    return folder


# ---------------------------------------------------------------- training
def tiny_overrides(
    encoder: Path, steps: int, device: int, amp: bool, distributed: bool = False
) -> dict[str, Any]:
    """The tiny config with `encoder`, one epoch of `steps` batches, the loss recorder."""
    overrides: dict[str, Any] = {
        "dataset_reader.transformer_model_name": str(encoder),
        "validation_dataset_reader.transformer_model_name": str(encoder),
        "model.transformer_model_name": str(encoder),
        "train_data_path": str(TRAIN),
        "validation_data_path": str(DEV),
        "data_loader.batches_per_epoch": steps,
        "trainer.num_epochs": 1,
        "trainer.use_amp": amp,
        "trainer.callbacks": [{"type": "torch_rng_state"}, {"type": "gpu_check_losses"}],
        "trainer.learning_rate_scheduler": {"type": "linear_with_warmup", "warmup_steps": 10},
    }
    if encoder != TINY:
        overrides["trainer.optimizer.lr"] = 5e-5
    if distributed:
        overrides["distributed"] = {"cuda_devices": [device]}
        overrides["trainer.cuda_device"] = device
    else:
        overrides["trainer.cuda_device"] = device
    return overrides


def train(name: str, overrides: dict[str, Any], out: Path, check: Check) -> Path:
    """`allennlp train` (in-process) of the tiny config with `overrides`; checks the losses."""
    from allennlp.commands.train import train_model_from_file

    serialization = out / name
    if serialization.exists():
        shutil.rmtree(serialization)
    started = time.perf_counter()
    torch.manual_seed(0)
    train_model_from_file(
        str(CONFIG),
        str(serialization),
        overrides=json.dumps(overrides),
        include_package=["gpu_check"],
        file_friendly_logging=True,
    )
    summarize_run(name, serialization, time.perf_counter() - started, check)
    return serialization / "model.tar.gz"


def train_distributed(
    name: str, overrides: dict[str, Any], backend: str | None, out: Path, check: Check
) -> Path | None:
    """
    `allennlp train` with `distributed` in a subprocess (a time limit; `backend` forces the
    process-group backend, e.g. gloo for two workers on one GPU, which NCCL refuses). None
    and a failure recorded when it fails.
    """
    serialization = out / name
    if serialization.exists():
        shutil.rmtree(serialization)
    command = [sys.executable, "-m", "allennlp", "train", str(CONFIG), "-s", str(serialization)]
    command += ["-o", json.dumps(overrides), "--include-package", "gpu_check"]
    command += ["--file-friendly-logging"]
    env = dict(os.environ, GPU_CHECK_DIST_BACKEND=backend or "")
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired:
        check.record(f"train {name}", "timed out after 150 s", ok=False)
        return None
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "Error" in line or "error" in line]
        check.record(f"train {name}", {"exit": done.returncode, "error": errors[-3:]}, ok=False)
        return None
    summarize_run(name, serialization, time.perf_counter() - started, check)
    return serialization / "model.tar.gz"


def summarize_run(name: str, serialization: Path, seconds: float, check: Check) -> None:
    """Checks every recorded training loss is finite; records steps, losses and dev F1."""
    losses = [json.loads(line) for line in (serialization / LOSSES).read_text().splitlines()]
    finite = all(math.isfinite(r["loss"]) for r in losses)
    metrics = json.loads((serialization / "metrics.json").read_text())
    check.record(
        f"train {name}",
        {
            "steps": len(losses),
            "workers": len({r["rank"] for r in losses}),
            "all_losses_finite": finite,
            "first_loss": round(losses[0]["loss"], 4),
            "last_loss": round(losses[-1]["loss"], 4),
            "skipped_inf_grad_steps": sum(
                1
                for r in losses
                if r["grad_norm"] is not None and not math.isfinite(r["grad_norm"])
            ),
            "dev_f1": round(metrics.get("best_validation_f1", float("nan")), 2),
            "seconds": round(seconds, 1),
        },
        ok=finite and len(losses) > 0,
    )


# ---------------------------------------------------------------- prediction and precision
def predict_and_score(name: str, archive: Path, device: int, check: Check) -> None:
    from allennlp.predictors import Predictor

    from xltt_plugin.commands.score import read_gold_questions, score_predictions

    predictor = Predictor.from_archive(load_archive(str(archive), cuda_device=device), "xltt")
    predictions = predictor.predict_squad_file(str(DEV), language="en")  # type: ignore[attr-defined]
    questions = read_gold_questions(str(DEV))
    scores = score_predictions(questions, predictions, "en")
    check.record(
        f"predict+score {name}",
        {
            "questions": scores["questions"],
            "unanswered": scores["unanswered"],
            "exact_match": round(scores["exact_match"], 2),
            "f1": round(scores["f1"], 2),
        },
        ok=scores["unanswered"] == 0 and scores["questions"] > 0,
    )


def dev_windows(reader_params: Params) -> list[Instance]:
    reader = DatasetReader.from_params(reader_params)
    return list(reader.read(str(DEV)))


def run_windows(
    model: Model,
    instances: list[Instance],
    vocab: Vocabulary,
    device: torch.device,
    dtype: torch.dtype | None,
) -> dict[str, Any]:
    """Span logits, best spans and answers of every window, under autocast(`dtype`) or not."""
    model.eval()
    starts, ends, spans, texts = [], [], [], []
    for begin in range(0, len(instances), 16):
        batch = Batch(instances[begin : begin + 16])
        batch.index_instances(vocab)
        tensors = nn_util.move_to_device(batch.as_tensor_dict(), device)
        with (
            torch.no_grad(),
            torch.autocast(device.type, dtype=dtype or torch.float16, enabled=dtype is not None),
        ):
            output = model(**tensors)
        for row in range(output["span_start_logits"].size(0)):
            starts.append(output["span_start_logits"][row].float().cpu())
            ends.append(output["span_end_logits"][row].float().cpu())
            spans.append(output["best_span"][row].tolist())
            texts.append(output["best_span_str"][row])
    metrics = model.get_metrics(reset=True)
    return {"starts": starts, "ends": ends, "spans": spans, "texts": texts, "metrics": metrics}


def compare_precisions(
    name: str, archive: Path, device: torch.device, dtypes: list[torch.dtype], check: Check
) -> None:
    loaded = load_archive(str(archive), cuda_device=device.index if device.type == "cuda" else -1)
    model, config = loaded.model, loaded.config
    instances = dev_windows(config["validation_dataset_reader"].duplicate())
    reference = run_windows(model, instances, model.vocab, device, None)
    for dtype in dtypes:
        half = run_windows(model, instances, model.vocab, device, dtype)
        finite = all(torch.isfinite(t).all() for t in half["starts"] + half["ends"])
        d = max(
            float((a - b).abs().max())
            for a, b in zip(half["starts"] + half["ends"], reference["starts"] + reference["ends"])
        )
        same, near_ties, bad = 0, 0, 0
        for row, (span, span32) in enumerate(zip(half["spans"], reference["spans"])):
            if span == span32:
                same += 1
                continue
            s32, e32 = reference["starts"][row], reference["ends"][row]
            if span[0] < 0 or span32[0] < 0:
                bad += 1
                continue
            chosen = float(s32[span[0]] + e32[span[1]])
            best = float(s32[span32[0]] + e32[span32[1]])
            if chosen >= best - 4 * d:
                near_ties += 1
            else:
                bad += 1
        f1, f1_32 = (
            half["metrics"].get("f1", float("nan")),
            reference["metrics"].get("f1", float("nan")),
        )
        check.record(
            f"autocast {str(dtype).replace('torch.', '')} vs float32, {name}",
            {
                "windows": len(half["spans"]),
                "same_span": same,
                "near_ties": near_ties,
                "differ": bad,
                "max_logit_diff": round(d, 5),
                "f1": round(f1, 2),
                "f1_float32": round(f1_32, 2),
                "logits_finite": finite,
            },
            ok=finite and bad == 0,
        )


# ---------------------------------------------------------------- throughput
def throughput(
    encoder: Path, device: torch.device, batch_size: int, length_limit: int, steps: int, warmup: int
) -> dict[str, dict[str, float]]:
    """Training windows/s of xltt and transformer_qa on the same windows, float32 and mixed."""
    from allennlp_models.rc.dataset_readers.transformer_squad import TransformerSquadReader
    from allennlp_models.rc.models.transformer_qa import TransformerQA

    from xltt_plugin.data.xltt_parallel_reader import XlttParallelReader

    windows = {
        "transformer_model_name": str(encoder),
        "length_limit": length_limit,
        "stride": length_limit // 2,
    }
    xltt_reader = XlttParallelReader(
        parallel_languages=["ja", "ko"],
        language="en",
        dataset_name="squad",
        max_query_length=min(64, length_limit // 3),
        **windows,
    )
    qa_reader = TransformerSquadReader(
        max_query_length=min(64, length_limit // 3), skip_impossible_questions=False, **windows
    )
    sets = {
        "xltt": list(xltt_reader.read(str(TRAIN))),
        "transformer_qa": list(qa_reader.read(str(TRAIN))),
    }
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    results: dict[str, dict[str, float]] = {}
    for model_name, instances in sets.items():
        vocab = Vocabulary.from_instances(instances)
        for precision in ("float32", str(amp_dtype).replace("torch.", "")):
            torch.manual_seed(0)
            if model_name == "xltt":
                params = Params.from_file(str(CONFIG))["model"].as_dict()
                params["transformer_model_name"] = str(encoder)
                model = Model.from_params(vocab=vocab, params=Params(params))
            else:
                model = TransformerQA(vocab, transformer_model_name=str(encoder))
            model = model.to(device).train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
            amp = precision != "float32"
            scaler = torch.amp.GradScaler(device.type, enabled=amp and amp_dtype == torch.float16)
            batches = []
            for begin in range(0, batch_size * (steps + warmup), batch_size):
                chosen = [
                    copy.deepcopy(instances[(begin + i) % len(instances)])
                    for i in range(batch_size)
                ]
                batch = Batch(chosen)
                batch.index_instances(vocab)
                batches.append(nn_util.move_to_device(batch.as_tensor_dict(), device))
            tokens = 0
            for step, tensors in enumerate(batches):
                if step == warmup:
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    started = time.perf_counter()
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    loss = model(**tensors)["loss"]
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                if step >= warmup:
                    tokens += int(tensors["question_with_context"]["tokens"]["mask"].sum())
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
            results[f"{model_name} {precision}"] = {
                "windows_per_s": round(batch_size * steps / seconds, 1),
                "pivot_tokens_per_window": round(tokens / (batch_size * steps), 1),
            }
            del model, optimizer, batches
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return results


# ---------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", action="store_true", help="dry run on CPU (no GPU needed)")
    parser.add_argument(
        "--encoder", type=Path, help="Hugging Face folder of a multilingual encoder"
    )
    parser.add_argument(
        "--steps", type=int, help="training steps of the tiny runs (GPU 300, CPU 30)"
    )
    parser.add_argument(
        "--encoder-steps", type=int, help="steps of the encoder runs (GPU 200, CPU 3)"
    )
    parser.add_argument("--out", type=Path, help="keep the runs and summary.json here")
    parser.add_argument("--summary", type=Path, help="also write the summary JSON here")
    args = parser.parse_args()
    if not args.cpu and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device; use --cpu for the dry run")
    os.chdir(REPO)
    # Spawned workers (distributed) import this module by name for the loss recorder.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "scripts"), str(REPO), os.environ.get("PYTHONPATH", "")]
    )
    sys.path.insert(0, str(REPO / "scripts"))
    import xltt_plugin  # noqa: F401  (registers the plugin)

    gpu = not args.cpu
    device = torch.device("cuda", 0) if gpu else torch.device("cpu")
    cuda = 0 if gpu else -1
    steps = args.steps or (300 if gpu else 30)
    encoder_steps = args.encoder_steps or (200 if gpu else 3)
    dtypes = [torch.float16, torch.bfloat16]
    out = args.out or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    out.mkdir(parents=True, exist_ok=True)
    check = Check()
    started = time.perf_counter()
    check.record(
        "environment",
        {
            "device": torch.cuda.get_device_name(0) if gpu else "cpu",
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
        },
    )

    if args.encoder is not None and (args.encoder / "config.json").is_file():
        encoder, encoder_name = args.encoder, f"encoder {args.encoder.name}"
    else:
        if args.encoder is not None:
            print(f"gpu_check: {args.encoder} holds no Hugging Face encoder (config.json): skipped")
        else:
            print("gpu_check: no --encoder given: a random XLM-R-sized encoder stands in")
        # On CPU (the dry run) a small one: the machine's memory is shared.
        layers, hidden = (12, 768) if gpu else (4, 256)
        encoder_name = f"encoder random-{layers}x{hidden}"
        encoder = random_encoder(out / f"random-{layers}x{hidden}", layers, hidden)

    # 1-2: the tiny config, AMP and float32; the encoder, AMP and float32.
    for label, enc, n in (
        ("tiny", TINY, steps),
        (encoder_name.replace(" ", "-"), encoder, encoder_steps),
    ):
        amp_archive = train(f"{label}-amp", tiny_overrides(enc, n, cuda, amp=gpu), out, check)
        fp32_archive = train(f"{label}-fp32", tiny_overrides(enc, n, cuda, amp=False), out, check)
        for archive, run in ((amp_archive, "amp"), (fp32_archive, "fp32")):
            predict_and_score(f"{label}-{run}", archive, cuda, check)
        compare_precisions(f"{label}-amp", amp_archive, device, dtypes, check)

    # 3: throughput, xltt and transformer_qa side by side.
    measured = {
        "tiny": throughput(TINY, device, 8, 96, 30 if gpu else 3, 5 if gpu else 1),
        encoder_name: throughput(
            encoder,
            device,
            16 if gpu else 2,
            384 if gpu else 192,
            20 if gpu else 2,
            3 if gpu else 1,
        ),
    }
    for enc_name, rows in measured.items():
        for key, row in rows.items():
            check.record(f"throughput {enc_name}: {key}", row)

    # 4: distributed training on one device: AllenNLP's `distributed` needs two workers or
    # more, so two on device 0 (on CPU: two gloo processes). NCCL refuses two ranks on one
    # GPU: that is tried and recorded, then the same run with the gloo backend.
    overrides = tiny_overrides(TINY, 40 if gpu else 6, cuda, amp=gpu, distributed=True)
    overrides["distributed"] = {"cuda_devices": [cuda, cuda]}
    backends = ["nccl", "gloo"] if gpu else [None]
    for backend in backends:
        name = f"tiny-distributed-{backend or 'gloo'}"
        archive = train_distributed(name, overrides, backend, out, check)
        if archive is not None:
            predict_and_score(name, archive, cuda, check)
            break
        if backend == "nccl" and check.failures[-1] == f"train {name}":
            # Expected on one GPU; the gloo run decides.
            check.failures.pop()

    check.record("total seconds", round(time.perf_counter() - started, 1))
    (out / "summary.json").write_text(json.dumps(check.results, indent=1))
    if args.summary is not None:
        args.summary.write_text(json.dumps(check.results, indent=1))
    if check.failures:
        print(f"gpu_check: FAILED {check.failures} (runs in {out})")
        sys.exit(1)
    print(f"gpu_check: OK (runs in {out})")


if __name__ == "__main__":
    main()
