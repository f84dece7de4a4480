"""benchmarks/quality/e5_quickstart.py (`make e5-quickstart`): question subsets and the skip.

No training here (CI budget): the real run fine-tunes multilingual-e5-small for minutes.
"""

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests import REPO

SCRIPT = Path(REPO) / "benchmarks" / "quality" / "e5_quickstart.py"
_spec = importlib.util.spec_from_file_location("e5_quickstart", SCRIPT)
assert _spec is not None and _spec.loader is not None
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)


def _document(lang: str, articles: int = 3, paragraphs: int = 2, questions: int = 4) -> dict:
    """A parallel XQuAD-like document: the same ids in every language, text per language."""
    data: list[dict[str, Any]] = []
    for a in range(articles):
        paras = []
        for p in range(paragraphs):
            context = f"{lang} context {a}.{p}"
            qas = [
                {
                    "id": f"q{a}-{p}-{q}",
                    "question": f"{lang} question {q}?",
                    "answers": [{"text": "context", "answer_start": len(lang) + 1}],
                }
                for q in range(questions)
            ]
            paras.append({"context": context, "qas": qas})
        data.append({"title": f"{lang} {a}", "paragraphs": paras})
    return {"version": "1.1", "data": data}


def _ids(document: dict) -> list[str]:
    return [qa["id"] for a in document["data"] for p in a["paragraphs"] for qa in p["qas"]]


def test_select_ids_evenly_spaced_in_file_order() -> None:
    document = _document("en")  # 24 questions
    all_ids = _ids(document)
    chosen = quickstart.select_ids(document, 6)
    assert chosen == [all_ids[i] for i in (0, 4, 8, 12, 16, 20)]
    assert quickstart.select_ids(document, 100) == all_ids
    assert quickstart.select_ids(document, 24) == all_ids


def test_subsets_keep_the_same_ids_in_every_language(tmp_path: Path) -> None:
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    for lang in ("en", "de", "zh", "el"):
        (test_dir / f"xquad.{lang}.json").write_text(
            json.dumps(_document(lang), ensure_ascii=False), encoding="utf-8"
        )
    files, ids = quickstart.make_subsets(str(test_dir), str(tmp_path / "quick"), 5)
    assert len(ids) == 5
    # Seen language first, then the benchmark's evaluation order.
    assert [Path(f).name for f in files] == [
        "xquad.en.json",
        "xquad.de.json",
        "xquad.zh.json",
        "xquad.el.json",
    ]
    for path in files:
        lang = Path(path).name.split(".")[1]
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        assert _ids(document) == ids
        # Each question keeps its own language's passage and question.
        for article in document["data"]:
            for paragraph in article["paragraphs"]:
                assert paragraph["context"].startswith(lang + " ")
                assert paragraph["qas"], "paragraphs without a selected question are dropped"


def test_subset_names_a_language_that_lacks_a_selected_id() -> None:
    document = _document("de", articles=1)
    with pytest.raises(SystemExit, match=r"xquad\.de\.json: 1 of the selected question ids"):
        quickstart.subset(document, ["q0-0-0", "missing"], "xquad.de.json")


def test_skips_with_a_message_without_xquad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart.main(["--xquad", str(tmp_path / "absent"), "--out", str(tmp_path / "out")])
    assert "e5-quickstart: skipped: no XQuAD files" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()
