"""
Untrusted files: nothing in the plugin unpickles data (its caches are JSON or safetensors), and
a trained archive loads with torch's weights-only loading.
"""

import ast
import tarfile
from pathlib import Path
from typing import Any

import pytest
import torch
from allennlp.models.archival import load_archive

from tests import REPO

PACKAGE = Path(REPO) / "xltt_plugin"
# Modules whose loading runs code chosen by whoever wrote the file.
UNPICKLING_MODULES = {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "joblib", "shelve"}
UNPICKLING_MODULES |= {"marshal"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _keyword_is(call: ast.Call, name: str, value: Any) -> bool:
    return any(
        keyword.arg == name
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value is value
        for keyword in call.keywords
    )


def unsafe_loading(source: str, filename: str = "<source>") -> list[str]:
    """
    Every place in `source` that can unpickle: an import of a pickling module, `torch.load`
    without `weights_only=True`, `numpy.load(..., allow_pickle=True)`, `read_pickle`,
    `yaml.load` without a safe loader, `torch.load` imported by name.
    """
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in UNPICKLING_MODULES:
                    problems.append(f"{where}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in UNPICKLING_MODULES:
                problems.append(f"{where}: from {module} import ...")
            if module.startswith("torch") and any(a.name == "load" for a in node.names):
                problems.append(f"{where}: from {module} import load")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name.endswith("torch.load") and not _keyword_is(node, "weights_only", True):
                problems.append(f"{where}: {name} without weights_only=True")
            elif name.split(".")[-1] in ("read_pickle", "unsafe_load", "full_load"):
                problems.append(f"{where}: {name}")
            elif name in ("numpy.load", "np.load") and _keyword_is(node, "allow_pickle", True):
                problems.append(f"{where}: {name}(allow_pickle=True)")
            elif name == "yaml.load" and not any(k.arg == "Loader" for k in node.keywords):
                problems.append(f"{where}: yaml.load without a safe Loader")
    return problems


def test_the_scan_finds_unpickling() -> None:
    """The scan itself: each of these must be found, the safe forms not."""
    unsafe = [
        "import pickle",
        "import dill as d",
        "from joblib import load",
        "from torch import load",
        "torch.load(path)",
        "torch.load(path, weights_only=False)",
        "numpy.load(path, allow_pickle=True)",
        "pandas.read_pickle(path)",
        "yaml.load(text)",
    ]
    for source in unsafe:
        assert unsafe_loading(source), source
    safe = [
        "torch.load(path, weights_only=True)",
        "numpy.load(path)",
        "json.load(handle)",
        "safetensors.numpy.load_file(path)",
        "yaml.load(text, Loader=yaml.SafeLoader)",
    ]
    for source in safe:
        assert not unsafe_loading(source), source


def test_plugin_never_unpickles() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    problems = [
        problem
        for path in files
        for problem in unsafe_loading(path.read_text(encoding="utf-8"), str(path))
    ]
    assert problems == []


def test_trained_archive_loads_weights_only(
    tiny_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The weights file of `allennlp train`'s archive, read by torch's safe unpickler alone.
    with tarfile.open(tiny_archive) as archive:
        names = archive.getnames()
        assert "weights.th" in names
        archive.extract("weights.th", tmp_path, filter="data")
    state = torch.load(tmp_path / "weights.th", weights_only=True)
    assert state and all(isinstance(value, torch.Tensor) for value in state.values())

    # And AllenNLP's whole archive loading, with every torch.load forced to weights-only.
    calls = []
    original = torch.load

    def weights_only_load(*args: Any, **kwargs: Any) -> Any:
        assert kwargs.get("weights_only") is not False
        calls.append(args[0])
        return original(*args, **{**kwargs, "weights_only": True})

    monkeypatch.setattr(torch, "load", weights_only_load)
    monkeypatch.chdir(REPO)  # the archive names the encoder by its repository path
    model = load_archive(str(tiny_archive)).model
    assert calls, "the archive was loaded without torch.load"
    loaded = model.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
