"""
Copy the small outputs of a protocol's runs into git (its `store`), each run folder with a
`manifest.json`: for every system and seed of the protocol whose run folder `FROM/runs/NAME-seedN`
(or `FROM/NAME-seedN`) has predictions, `STORE/NAME-seedN/` gets `predictions/*.json`,
`scores/*.json`, `metrics.json`, `config.json` (absolute paths replaced by the roles
`${ENCODER}` and `${DATA}`) and `manifest.json` (protocol, system, settings, overrides, seed,
test mode, reused run, git commit, wall times). Archives and checkpoints are never copied.

Run folders of the runner (`manifest.json`) and of the older `run.py` (`benchmark.json`) are
both read; a run whose settings, overrides or test mode differ from the protocol's system is
refused (`--force` imports it anyway, the difference kept in the manifest's `mismatch`).
"""

import glob
import json
import os
import re
import shutil
import subprocess
from typing import Any

from benchmarks.quality.protocol import REPO, Protocol, ProtocolError, System

SMALL_FILES = ("metrics.json", "config.json")
# Roles of the absolute paths that configs and old manifests carry.
_DATA = re.compile(r'/[^"]*?/benchmarks/out/[^"/]+/data(?=[/"])')
_ENCODER = re.compile(r'(?<=")/[^"]*?/(multilingual-e5-small|model)(?=")')
_ABSOLUTE = re.compile(r'"(/[^"]+)"')


def sanitize(text: str, data: str | None = None, encoder: str | None = None) -> str:
    """
    `text` (a config or manifest) with the data folder as `${DATA}` and the encoder folder as
    `${ENCODER}`: the given paths, and those of `benchmarks/out/*/data` and `.../model` or
    `.../multilingual-e5-small` folders of any checkout.

    # Raises

    `ProtocolError`
        When an absolute path is left.
    """
    for path, role in ((data, "${DATA}"), (encoder, "${ENCODER}")):
        if path:
            text = text.replace(path.rstrip("/"), role)
    text = _ENCODER.sub("${ENCODER}", _DATA.sub("${DATA}", text))
    left = _ABSOLUTE.findall(text)
    if left:
        raise ProtocolError(f"absolute paths left after replacing the roles: {left[:3]}")
    return text


def git_commit() -> str | None:
    """HEAD, with `-dirty` when tracked files have uncommitted changes; None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1)
        handle.write("\n")


def manifest_for(protocol: Protocol, system: System, seed: int, found: dict[str, Any]) -> dict:
    """
    The manifest of `system` at `seed`: what the protocol says, then what the run folder's
    own manifest (or run.py's benchmark.json, `found`) recorded (wall times, commit, notes).
    """
    manifest: dict[str, Any] = {
        "protocol": found.get("protocol", protocol.name),
        "system": system.name,
        "label": system.label,
        "seed": seed,
        "config": f"benchmarks/quality/{system.config}.jsonnet",
        "train_overrides": system.train_overrides,
        "settings": system.env(),
        "train_languages": list(system.train_languages),
        "test_mode": system.test_mode,
        "encoder": protocol.encoder,
        "eval_articles": "dev" if protocol.split.get("dev_articles") else "test",
    }
    if system.reuses:
        manifest["reuses"] = f"{system.reuses}-seed{seed}"
    if system.slots:
        manifest["translation_files"] = {
            slot: dict(system.slot_files).get(slot, f"${{DATA}}/test/xquad.{slot}.json")
            for slot in system.slots
        }
    if system.max_answer_length is not None:
        manifest["max_answer_length"] = system.max_answer_length
    if protocol.split.get("questions"):
        manifest["questions_per_language"] = protocol.split["questions"]
    # A mismatch is computed afresh below, never carried over from an earlier manifest.
    recorded = {
        k: v
        for k, v in found.items()
        if k not in manifest and k not in ("reuses_archive", "mismatch")
    }
    recorded.pop("translation_files", None)
    manifest |= {"git_commit": found.get("git_commit")} | recorded
    mismatch = _mismatch(manifest, found)
    if mismatch:
        manifest["mismatch"] = mismatch
    return manifest


def _mismatch(manifest: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What the run folder recorded differently from the protocol's system."""
    problems = []
    overrides = found.get("train_overrides")
    if isinstance(overrides, str):
        overrides = json.loads(overrides) if overrides else None
    if "settings" in found and found["settings"] != manifest["settings"]:
        problems.append(f"settings {found['settings']} != {manifest['settings']}")
    if "system" in found and (overrides or None) != (manifest["train_overrides"] or None):
        problems.append(f"train_overrides {overrides} != {manifest['train_overrides']}")
    # run.py's benchmark.json of a `self` run has no test_mode; nor has the runner's own record
    # of a run it is writing the manifest of (the protocol's test mode is then the truth).
    if "test_mode" in found and found["test_mode"] != manifest["test_mode"]:
        problems.append(f"test_mode {found['test_mode']!r} != {manifest['test_mode']!r}")
    if "seed" in found and found["seed"] != manifest["seed"]:
        problems.append(f"seed {found['seed']} != {manifest['seed']}")
    return problems


def _source(source_out: str, run_name: str) -> str | None:
    for candidate in (
        os.path.join(source_out, "runs", run_name),
        os.path.join(source_out, run_name),
    ):
        if os.path.isdir(os.path.join(candidate, "predictions")):
            return candidate
    return None


def collect(
    protocol: Protocol,
    source_out: str | None = None,
    systems: list[str] | None = None,
    force: bool = False,
) -> list[str]:
    """
    Copy the protocol's runs from `source_out` (default the protocol's `out`) into its store;
    returns one line per run (languages scored, or why it was skipped).
    """
    source_out = os.path.join(REPO, source_out or protocol.out)
    store = os.path.join(REPO, protocol.store)
    data = os.path.join(source_out, "data")
    lines = []
    for system in protocol.systems:
        if systems and system.name not in systems:
            continue
        for seed in system.seeds:
            name = system.run_name(seed)
            source = _source(source_out, name)
            if source is None:
                lines.append(f"{name}: not found in {os.path.relpath(source_out, REPO)}")
                continue
            found: dict[str, Any] = {}
            for info in ("manifest.json", "benchmark.json"):
                if os.path.exists(os.path.join(source, info)):
                    found = read_json(os.path.join(source, info))
                    break
            manifest = manifest_for(protocol, system, seed, found)
            if manifest.get("mismatch") and not force:
                raise ProtocolError(
                    f"{source} differs from {protocol.name}'s {system.name}: "
                    + "; ".join(manifest["mismatch"])
                    + " (fix the protocol, or import it anyway with --force)"
                )
            target = os.path.join(store, name)
            _copy(source, target)
            config = os.path.join(source, "config.json")
            if os.path.exists(config):
                with open(config, encoding="utf-8") as handle:
                    text = sanitize(handle.read(), data)
                with open(os.path.join(target, "config.json"), "w", encoding="utf-8") as handle:
                    handle.write(text)
            write_json(os.path.join(target, "manifest.json"), manifest)
            if os.path.exists(os.path.join(target, "benchmark.json")):
                os.remove(os.path.join(target, "benchmark.json"))  # now in the manifest
            scored = sorted(
                name.split(".")[1]
                for name in os.listdir(os.path.join(target, "scores"))
                if name.endswith(".mlqa.json")
            )
            lines.append(f"{name}: {len(scored)} languages scored ({' '.join(scored)})")
    return lines


def _copy(source: str, target: str) -> None:
    """Predictions, scores and metrics.json of `source` into `target` (nothing when the same)."""
    if os.path.realpath(source) == os.path.realpath(target):
        return
    for sub in ("predictions", "scores"):
        os.makedirs(os.path.join(target, sub), exist_ok=True)
        for name in sorted(os.listdir(os.path.join(source, sub))):
            if name.endswith(".json"):
                shutil.copyfile(os.path.join(source, sub, name), os.path.join(target, sub, name))
    if os.path.exists(os.path.join(source, "metrics.json")):
        shutil.copyfile(os.path.join(source, "metrics.json"), os.path.join(target, "metrics.json"))
    # The runner's MAA diagnostic of a trained XLTT archive (issue 30), small JSON.
    for path in sorted(glob.glob(os.path.join(source, "maa_diagnostic.*.json"))):
        shutil.copyfile(path, os.path.join(target, os.path.basename(path)))
