import json
import math
from pathlib import Path

import pytest

from xltt_plugin.data.squad_loading import SquadFormatError
from xltt_plugin.training.task_similarity import (
    build_vectorizer,
    load_questions,
    softmax_weights,
    spacy_tokenizer,
    task_similarity,
    task_similarity_from_files,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def squad_file(path: Path, questions: list[str]) -> str:
    qas = [
        {"id": f"q{i}", "question": q, "answers": [{"text": "x", "answer_start": 0}]}
        for i, q in enumerate(questions)
    ]
    data = {
        "version": "1.1",
        "data": [{"title": "t", "paragraphs": [{"context": "x", "qas": qas}]}],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def idf(df: int, n: int) -> float:
    # scikit-learn's smooth idf
    return math.log((1 + n) / (1 + df)) + 1


def test_three_document_case_against_hand_computation():
    # Documents (default analyzer: lowercase, tokens of >= 2 word characters):
    #   A = "Who won? who lost"  -> who:2 won:1 lost:1
    #   B = "Where is it"        -> where:1 is:1 it:1
    #   T = "who won it"         -> who:1 won:1 it:1
    # n = 3; df: who 2, won 2, it 2, lost 1, where 1, is 1.
    n = 3
    i2, i1 = idf(2, n), idf(1, n)
    a = {"who": 2 * i2, "won": 1 * i2, "lost": 1 * i1}
    b = {"where": i1, "is": i1, "it": i2}
    t = {"who": i2, "won": i2, "it": i2}

    def cosine(u: dict[str, float], v: dict[str, float]) -> float:
        dot = sum(u[k] * v.get(k, 0.0) for k in u)
        return dot / (
            math.sqrt(sum(x * x for x in u.values())) * math.sqrt(sum(x * x for x in v.values()))
        )

    cos_a, cos_b = cosine(a, t), cosine(b, t)
    # spelled out for A: (2*i2*i2 + i2*i2) / (sqrt(4 i2^2 + i2^2 + i1^2) * sqrt(3 i2^2))
    assert cos_a == pytest.approx(3 * i2**2 / (math.sqrt(5 * i2**2 + i1**2) * math.sqrt(3) * i2))
    assert cos_b == pytest.approx(i2**2 / (math.sqrt(2 * i1**2 + i2**2) * math.sqrt(3) * i2))

    result = task_similarity({"A": ["Who won?", "who lost"], "B": ["Where is it"]}, ["who won it"])
    assert list(result.cosine) == ["A", "B"]
    assert result.cosine["A"] == pytest.approx(cos_a, abs=1e-12)
    assert result.cosine["B"] == pytest.approx(cos_b, abs=1e-12)
    total = math.exp(cos_a) + math.exp(cos_b)
    assert result.weights["A"] == pytest.approx(math.exp(cos_a) / total, abs=1e-12)
    assert result.weights["B"] == pytest.approx(math.exp(cos_b) / total, abs=1e-12)

    sharp = task_similarity(
        {"A": ["Who won?", "who lost"], "B": ["Where is it"]}, ["who won it"], temperature=0.1
    )
    total = math.exp(cos_a / 0.1) + math.exp(cos_b / 0.1)
    assert sharp.cosine == pytest.approx(result.cosine)
    assert sharp.weights["A"] == pytest.approx(math.exp(cos_a / 0.1) / total, abs=1e-12)


def test_source_order_does_not_change_values():
    forward = task_similarity({"A": ["who won"], "B": ["where is it"]}, ["who won it"])
    backward = task_similarity({"B": ["where is it"], "A": ["who won"]}, ["who won it"])
    assert list(backward.cosine) == ["B", "A"]
    assert backward.cosine == pytest.approx(forward.cosine)
    assert backward.weights == pytest.approx(forward.weights)


def test_softmax_weights():
    weights = softmax_weights({"x": 0.0, "y": math.log(3.0)}, temperature=1.0)
    assert weights == pytest.approx({"x": 0.25, "y": 0.75})
    # temperature 0.5 squares the ratio: 1 : 9
    assert softmax_weights({"x": 0.0, "y": math.log(3.0)}, 0.5) == pytest.approx(
        {"x": 0.1, "y": 0.9}
    )
    # stable for large inputs
    assert softmax_weights({"x": 1000.0, "y": 1000.0}, 1e-3) == pytest.approx({"x": 0.5, "y": 0.5})
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="temperature"):
            softmax_weights({"x": 0.0}, bad)
    with pytest.raises(ValueError):
        softmax_weights({}, 1.0)


def test_spacy_zh_analyzer_segments_characters():
    assert spacy_tokenizer("zh")("北京在哪里？\n上海 很好。") == [
        "北",
        "京",
        "在",
        "哪",
        "里",
        "上",
        "海",
        "很",
        "好",
    ]
    sources = {"A": ["北京大学在哪"], "B": ["上海很好"]}
    target = ["北京在哪里？"]
    # word analyzer: each question is a single token, nothing is shared
    words = task_similarity(sources, target)
    assert words.cosine == pytest.approx({"A": 0.0, "B": 0.0})
    assert words.weights == pytest.approx({"A": 0.5, "B": 0.5})
    # characters, n = 3: df 2 for 北 京 在 哪; df 1 for 大 学 上 海 很 好 里
    i2, i1 = idf(2, 3), idf(1, 3)
    expected = 4 * i2**2 / math.sqrt((4 * i2**2 + 2 * i1**2) * (4 * i2**2 + i1**2))
    chars = task_similarity(sources, target, analyzer="spacy:zh")
    assert chars.cosine["A"] == pytest.approx(expected, abs=1e-12)
    assert chars.cosine["B"] == pytest.approx(0.0, abs=1e-12)
    # bigrams of characters add the shared 北京, 在哪 and the unshared 京大, 京在 ...
    bigrams = task_similarity(sources, target, analyzer="spacy:zh", ngram_range=(1, 2))
    assert 0 < bigrams.cosine["A"] < 1


def test_build_vectorizer_options_and_errors():
    vectorizer = build_vectorizer("char_wb", (2, 4))
    assert vectorizer.analyzer == "char_wb" and vectorizer.ngram_range == (2, 4)
    with pytest.raises(ValueError, match="unknown analyzer"):
        build_vectorizer("bpe")
    with pytest.raises(ValueError, match="unknown analyzer"):
        build_vectorizer("spacy:")
    with pytest.raises(ValueError, match="ngram_range"):
        build_vectorizer("word", (2, 1))
    with pytest.raises(ValueError, match="spacy:qq"):
        build_vectorizer("spacy:qq")


def test_empty_vocabulary_is_explained():
    with pytest.raises(ValueError, match="char"):
        task_similarity({"A": ["a b"]}, ["c ?"])


def test_load_questions(tmp_path: Path):
    path = squad_file(tmp_path / "ok.json", ["Who?", "", "Where?"])
    assert load_questions(path) == ["Who?", "", "Where?"]

    with pytest.raises(SquadFormatError, match=r"missing\.json: cannot read"):
        load_questions(str(tmp_path / "missing.json"))

    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(SquadFormatError, match=r"broken\.json: malformed JSON"):
        load_questions(str(broken))

    flat = tmp_path / "flat.json"
    flat.write_text('[{"question": "x"}]', encoding="utf-8")
    with pytest.raises(
        SquadFormatError,
        match=r"flat\.json: not a SQuAD-format file \(expected an object with a 'data' list",
    ):
        load_questions(str(flat))

    no_qas = tmp_path / "no_qas.json"
    no_qas.write_text('{"data": [{"paragraphs": [{"context": "x"}]}]}', encoding="utf-8")
    with pytest.raises(
        SquadFormatError, match=r"no_qas\.json: article 0 paragraph 0: 'qas' must be a list"
    ):
        load_questions(str(no_qas))

    bad_question = tmp_path / "bad_question.json"
    bad_question.write_text(
        '{"data": [{"paragraphs": [{"context": "x", "qas": [{"id": "abc-7", "question": 3}]}]}]}',
        encoding="utf-8",
    )
    with pytest.raises(
        SquadFormatError,
        match=r"bad_question\.json: article 0 paragraph 0 question 'abc-7': 'question' must be",
    ):
        load_questions(str(bad_question))

    empty = squad_file(tmp_path / "empty.json", ["", "  "])
    with pytest.raises(SquadFormatError, match=r"empty\.json: holds no non-empty question"):
        load_questions(empty)


def test_from_files_matches_in_memory(tmp_path: Path):
    a = squad_file(tmp_path / "a.json", ["Who won?", "who lost"])
    b = squad_file(tmp_path / "b.json", ["Where is it"])
    t = squad_file(tmp_path / "t.json", ["who won it"])
    from_files = task_similarity_from_files(t, {"A": a, "B": b})
    in_memory = task_similarity(
        {"A": ["Who won?", "who lost"], "B": ["Where is it"]}, ["who won it"]
    )
    assert from_files.cosine == pytest.approx(in_memory.cosine)
    assert from_files.weights == pytest.approx(in_memory.weights)


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_design_readme_figures_with_defaults():
    # design README §5: XQuAD de, CMRC2018 trial, XQuAD es against XQuAD en:
    # cosines 0.076, 0.014, 0.004 and softmax (temperature 1) weights 0.348/0.327/0.324.
    result = task_similarity_from_files(
        str(DATA / "xquad" / "xquad.en.json"),
        {
            "de": str(DATA / "xquad" / "xquad.de.json"),
            "cmrc_trial": str(DATA / "cmrc2018" / "cmrc2018_trial.json"),
            "es": str(DATA / "xquad" / "xquad.es.json"),
        },
    )
    assert {k: round(v, 3) for k, v in result.cosine.items()} == {
        "de": 0.076,
        "cmrc_trial": 0.014,
        "es": 0.004,
    }
    assert {k: round(v, 3) for k, v in result.weights.items()} == {
        "de": 0.348,
        "cmrc_trial": 0.327,
        "es": 0.324,
    }
