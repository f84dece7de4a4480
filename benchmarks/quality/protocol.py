"""
Quality protocols as data: one Jsonnet file per study in `benchmarks/quality/protocols/`
(`e5-main.jsonnet`, ...), read into a `Protocol`: the split, encoder, windows, budget, seeds,
the systems (each an AllenNLP config of `benchmarks/quality/` with its `-o` overrides, or the
archives of another system in a test mode) and the comparisons to report. Field reference:
docs/quality-protocols.md. No AllenNLP import (the Jsonnet evaluator only).
"""

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any

import _jsonnet

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROTOCOLS = os.path.join(HERE, "protocols")
MODES = ("mlqa", "squad")
# Settings a system may override, and the environment variable each config reads
# (benchmarks/quality/common.libsonnet).
SETTINGS = {
    "epochs": "EPOCHS",
    "steps_per_epoch": "STEPS_PER_EPOCH",
    "lr": "LR",
    "length": "LENGTH",
    "stride": "STRIDE",
    "batch_size": "BATCH_SIZE",
    "freeze_word_embeddings": "FREEZE_WORD_EMBEDDINGS",
    "eval_length": "EVAL_LENGTH",
    "eval_stride": "EVAL_STRIDE",
}
TRANSLATED_NOTE = "(XQuAD human translations for MT)"


class ProtocolError(Exception):
    """A protocol file that cannot be read or is inconsistent, as a one-line message."""


@dataclass(frozen=True)
class System:
    """One system of a protocol: trained from `config`, or reusing the archives of `reuses`."""

    name: str  # run folders are NAME-seedN; rows of the tables
    label: str
    config: str  # benchmarks/quality/CONFIG.jsonnet (of the reused system for `reuses`)
    train_languages: tuple[str, ...]
    seeds: tuple[int, ...]
    settings: dict[str, Any]  # SETTINGS keys -> values
    train_overrides: dict[str, Any] | None = None
    reuses: str | None = None
    slots: tuple[str, ...] = ()  # test mode `translated` with these slot languages
    # Repository-relative files of the slots (default: the split's own test files, i.e.
    # XQuAD's human translations) and what they are (the test-mode label's note).
    slot_files: tuple[tuple[str, str], ...] = ()
    slot_note: str = TRANSLATED_NOTE
    max_answer_length: int | None = None  # re-decoding (a0-len30)
    languages: tuple[str, ...] | None = None  # test languages (None: every one)

    def run_name(self, seed: int) -> str:
        return f"{self.name}-seed{seed}"

    @property
    def test_mode(self) -> str:
        """The label `xltt-report` prints: `self` or `translated: de,es (...)`."""
        if not self.slots:
            return "self"
        return f"translated: {','.join(self.slots)} {self.slot_note}"

    def slot_file(self, slot: str, test_dir: str) -> str:
        """The file of `slot`'s versions of the test items (`test_dir`: the split's test files)."""
        files = dict(self.slot_files)
        if slot in files:
            return os.path.join(REPO, files[slot])
        return os.path.join(test_dir, f"xquad.{slot}.json")

    def env(self) -> dict[str, str]:
        """The settings as the configs' environment variables (strings, as run.py wrote them)."""
        env = {}
        for key, value in self.settings.items():
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif key == "lr":
                text = repr(float(value))
            else:
                text = str(value)
            env[SETTINGS[key]] = text
        return env


@dataclass(frozen=True)
class Comparison:
    """A paired bootstrap of system `b` minus system `a` (benchmarks/quality/compare.py)."""

    a: str
    b: str
    modes: tuple[str, ...]
    languages: tuple[str, ...]
    unseen: tuple[str, ...]
    seeds: tuple[int, ...] | None
    suffix: str

    def file(self, mode: str) -> str:
        return f"compare_{self.b}_minus_{self.a}{self.suffix}.{mode}.md"


@dataclass
class Protocol:
    name: str
    path: str
    description: str
    title: str
    encoder: str
    split: dict[str, int]
    out: str  # repository-relative
    store: str  # repository-relative
    systems: list[System]
    # systems of the protocols in `uses` (compared with, shown with `table_with_uses`)
    used: list[System] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    modes: tuple[str, ...] = MODES
    runner: str = "train"
    threads: int = 1
    raw: dict[str, Any] = field(default_factory=dict)

    def system(self, name: str) -> System:
        for system in [*self.systems, *self.used]:
            if system.name == name:
                return system
        raise ProtocolError(f"{self.name}: no system {name!r} (nor in {self.raw.get('uses')})")

    @property
    def report_dir(self) -> str:
        return os.path.join("benchmarks", "quality", "results", "reports", self.name)

    @property
    def table_systems(self) -> list[System]:
        return [*self.systems, *self.used] if self.report.get("table_with_uses") else self.systems


def protocol_names() -> list[str]:
    return sorted(
        os.path.basename(path)[: -len(".jsonnet")]
        for path in glob.glob(os.path.join(PROTOCOLS, "*.jsonnet"))
    )


def _evaluate(path: str) -> dict[str, Any]:
    try:
        return json.loads(_jsonnet.evaluate_file(path))
    except RuntimeError as error:
        raise ProtocolError(f"{path}: {error}") from error


def _system(raw: dict[str, Any], protocol: dict[str, Any], known: dict[str, System]) -> System:
    name = raw["name"]
    source = known.get(raw["reuses"]) if "reuses" in raw else None
    if "reuses" in raw and source is None:
        raise ProtocolError(f"system {name} reuses {raw['reuses']!r}, not defined before it")
    settings = {
        key: raw.get(key, protocol["windows"].get(key, protocol.get(key)))
        for key in SETTINGS
        if key in raw or key in protocol or key in protocol["windows"]
    }
    mode = raw.get("test_mode", "self")
    # `self`, or {translated: [slots], slot_files?: {slot: path}, note?: "..."}.
    translated = mode if isinstance(mode, dict) else {}
    slots = tuple(translated.get("translated", ()))
    slot_files = tuple(sorted(translated.get("slot_files", {}).items()))
    for slot, path in slot_files:
        if slot not in slots or os.path.isabs(path):
            raise ProtocolError(
                f"system {name}: slot_files[{slot!r}] must name a translated slot by a "
                f"repository-relative path, not {path!r}"
            )
    if source is not None:
        settings = source.settings
    return System(
        name=name,
        label=raw.get("label", name),
        config=source.config if source else raw["config"],
        train_languages=tuple(
            source.train_languages if source else raw.get("train_languages", ["en"])
        ),
        seeds=tuple(raw.get("seeds", source.seeds if source else protocol["seeds"])),
        settings=settings,
        train_overrides=source.train_overrides if source else raw.get("train_overrides"),
        reuses=source.name if source else None,
        slots=slots,
        slot_files=slot_files,
        slot_note=translated.get("note", TRANSLATED_NOTE),
        max_answer_length=raw.get("max_answer_length"),
        languages=tuple(raw["languages"]) if raw.get("languages") else None,
    )


def load(name: str, _seen: tuple[str, ...] = ()) -> Protocol:
    """The protocol `protocols/NAME.jsonnet`, its `uses` read too."""
    path = os.path.join(PROTOCOLS, f"{name}.jsonnet")
    if not os.path.exists(path):
        raise ProtocolError(f"no protocol {name!r}; known: {', '.join(protocol_names())}")
    if name in _seen:
        raise ProtocolError(f"protocols use each other in a cycle: {' -> '.join(_seen)}")
    raw = _evaluate(path)
    used: list[System] = []
    for other in raw.get("uses", []):
        protocol = load(other, (*_seen, name))
        if protocol.store != raw["store"]:
            raise ProtocolError(f"{name} uses {other}, whose runs are in another store")
        used += [s for s in [*protocol.systems, *protocol.used] if s not in used]
    known = {system.name: system for system in used}
    systems: list[System] = []
    for entry in raw["systems"]:
        system = _system(entry, raw, known)
        if system.name in {s.name for s in systems}:
            raise ProtocolError(f"{name}: two systems named {system.name}")
        known[system.name] = system
        systems.append(system)
    sets = raw.get("language_sets", {})

    def languages(value: Any) -> tuple[str, ...]:
        return tuple(sets[value]) if isinstance(value, str) else tuple(value)

    protocol = Protocol(
        name=name,
        path=os.path.relpath(path, REPO),
        description=raw.get("description", ""),
        title=raw.get("title", name),
        encoder=raw.get("encoder", "e5"),
        split=dict(raw.get("split", {})),
        out=raw["out"],
        store=raw["store"],
        systems=systems,
        used=[system for system in used if system.name not in {s.name for s in systems}],
        report=dict(raw.get("report", {})),
        modes=tuple(raw.get("modes", MODES)),
        runner=raw.get("runner", "train"),
        threads=int(raw.get("threads", 1)),
        raw=raw,
    )
    for entry in raw.get("comparisons", []):
        comparison = Comparison(
            a=entry["a"],
            b=entry["b"],
            modes=tuple(entry.get("modes", protocol.modes)),
            languages=languages(entry.get("languages", "all")),
            unseen=languages(entry.get("unseen", "unseen-9")),
            seeds=tuple(entry["seeds"]) if "seeds" in entry else None,
            suffix=entry.get("suffix", ""),
        )
        protocol.system(comparison.a), protocol.system(comparison.b)  # both must exist
        protocol.comparisons.append(comparison)
    return protocol


def comparison_seeds(protocol: Protocol, comparison: Comparison) -> list[int]:
    """The comparison's seeds: given, or those both systems have."""
    if comparison.seeds is not None:
        return list(comparison.seeds)
    a, b = protocol.system(comparison.a), protocol.system(comparison.b)
    return [seed for seed in a.seeds if seed in b.seeds]
