import re
import string
import sys
import unicodedata
from types import ModuleType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.metrics import reference_rules as ref
from tests.metrics.official_scripts import official_script
from xltt_plugin.metrics import normalization
from xltt_plugin.metrics.normalization import (
    LANGUAGE_RULES,
    SUPPORTED_LANGUAGES,
    UnknownLanguageError,
    answer_tokens,
    exact_match,
    f1_score,
    max_over_gold_answers,
    normalize_answer,
    token_f1,
)

XQUAD_LANGUAGES = ("en", "ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
TYDI_LANGUAGES = ("ar", "bn", "en", "fi", "id", "ja", "ko", "ru", "sw", "te", "th")
EXTENSION_WHITESPACE = ("el", "ro", "ru", "tr", "bn", "fi", "id", "sw", "te", "ko")


# ------------------------------------------------------------------------------------------
# Hand-worked cases, one or more per rule.
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "lang, text, expected",
    [
        # English articles, standalone only.
        ("en", "The Eiffel Tower.", "eiffel tower"),
        ("en", "an apple a day", "apple day"),
        ("en", "theatre another", "theatre another"),
        # Unicode punctuation (P*) and string.punctuation's ASCII symbols; other symbols stay.
        ("en", "«Paris» — “city”…", "paris city"),
        ("en", "$100 + 5 €", "100 5 €"),
        ("en", "self-driving", "selfdriving"),
        # Spanish.
        ("es", "¿El Niño y la niña?", "niño y niña"),
        ("es", "unas casas, Los elementos", "casas elementos"),
        # German.
        ("de", "Der Hund des Mannes", "hund mannes"),
        ("de", "Dieser Deutsche", "dieser deutsche"),
        # Arabic: every "ال" becomes a space, inside words too (the script's quirk).
        ("ar", "الكتاب", "كتاب"),
        ("ar", "المال", "م"),
        ("ar", "فالح!", "ف ح"),
        # Hindi: no articles; the danda is punctuation.
        ("hi", "भारत की राजधानी।", "भारत की राजधानी"),
        # Vietnamese.
        ("vi", "Cái bàn của tôi", "bàn tôi"),
        # Chinese: one token per character in U+4E00-U+9FA5, other text split on whitespace.
        ("zh", "北京大学，2008年", "北 京 大 学 2008 年"),
        ("zh", "iPhone手机", "iphone 手 机"),
        ("zh", "\u9fa6\u9fa6 \u3400\u3400", "\u9fa6\u9fa6 \u3400\u3400"),
        # Extension languages: lower-case, Unicode punctuation, whitespace tokens, no articles.
        ("el", "Η Αθήνα.", "η αθήνα"),
        ("ru", "«Москва» the", "москва the"),
        ("ro", "Un oraș, o țară", "un oraș o țară"),
        ("tr", "Ankara'nın", "ankaranın"),
        ("ko", "서울특별시의 인구.", "서울특별시의 인구"),
        ("bn", "ঢাকা।", "ঢাকা"),
        ("sw", "Nairobi, Kenya", "nairobi kenya"),
        ("pt", "O Mar Negro, não a Ásia.", "o mar negro não a ásia"),
        # Thai: one token per character with its combining marks.
        ("th", "ที่สุด", "ที่ สุ ด"),
        ("th", "iPhone 5 ของ", "iphone 5 ข อ ง"),
        # Japanese: one token per kana or ideograph (all CJK blocks), other runs whitespace.
        ("ja", "東京タワー。", "東 京 タ ワ ー"),
        ("ja", "𠮷野家 ｶﾀｶﾅ ＡＢＣ", "𠮷 野 家 ｶ ﾀ ｶ ﾅ ａｂｃ"),
        ("ja", "々〇", "々 〇"),
    ],
)
def test_mlqa_mode_hand_worked(lang: str, text: str, expected: str) -> None:
    assert normalize_answer(text, lang) == expected
    assert answer_tokens(text, lang) == expected.split()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Eiffel Tower.", "eiffel tower"),
        ("«Paris»", "«paris»"),  # only ASCII punctuation
        ("¿El Niño?", "¿el niño"),  # no Spanish articles
        ("北京大学", "北京大学"),  # no character segmentation
        ("a\u3000b\xa0the", "b"),  # any Unicode whitespace; "a" and "the" are articles
    ],
)
def test_squad_mode_hand_worked(text: str, expected: str) -> None:
    for lang in ("en", "zh", "fr", "xx"):
        assert normalize_answer(text, lang, mode="squad") == expected


def test_f1_and_em_hand_worked() -> None:
    # [big, red, dog] vs [red, dog]: P = 2/3, R = 1, F1 = 2 * (2/3) / (5/3) = 0.8.
    assert f1_score("the big red dog", "Red dog!", "en") == pytest.approx(0.8, abs=1e-15)
    assert exact_match("the big red dog", "Red dog!", "en") == 0.0
    assert exact_match("The red dog.", "red  dog", "en") == 1.0
    # 北 京 大 学 vs 北 京: P = 1/2, R = 1, F1 = 2/3.
    assert f1_score("北京大学", "北京", "zh") == pytest.approx(2 / 3, abs=1e-15)
    # Multisets: [x, x, y] vs [x, y, y] share {x, y}: P = R = 2/3.
    assert token_f1(["x", "x", "y"], ["x", "y", "y"]) == pytest.approx(2 / 3, abs=1e-15)
    # Two answers that normalise to nothing: EM 1 but F1 0, as in the official scripts.
    assert exact_match("the", "a", "en") == 1.0
    assert f1_score("the", "a", "en") == 0.0
    # Spanish article removal changes the score: "la casa" == "casa" in es, not in en.
    assert exact_match("la casa", "casa", "es") == 1.0
    assert exact_match("la casa", "casa", "en") == 0.0


def test_token_f1_uses_the_scripts_float_operations() -> None:
    # 2PR/(P+R) and 2n/(|p|+|g|) are equal in exact arithmetic but differ in the last bit for
    # about a third of small cases, e.g. (n, |p|, |g|) = (1, 1, 5); sums must equal the
    # scripts' bit for bit, so compare exactly over a grid.
    for n_pred in range(1, 13):
        for n_gold in range(1, 13):
            for n_same in range(min(n_pred, n_gold) + 1):
                common = [f"c{i}" for i in range(n_same)]
                prediction = common + [f"p{i}" for i in range(n_pred - n_same)]
                gold = common + [f"g{i}" for i in range(n_gold - n_same)]
                expected = ref.f1_of_strings(" ".join(prediction), " ".join(gold))
                assert token_f1(prediction, gold) == expected, (n_same, n_pred, n_gold)


def test_max_over_gold_answers() -> None:
    assert max_over_gold_answers("big red dog", ["red dog", "the big red dog"], "en") == (1.0, 1.0)
    em, f1 = max_over_gold_answers("big red dog", ["dog", "red dog"], "en")
    assert em == 0.0
    assert f1 == pytest.approx(0.8, abs=1e-15)  # against "red dog"; "dog" gives 0.5
    assert max_over_gold_answers("cat", ["dog"], "en") == (0.0, 0.0)
    with pytest.raises(ValueError, match="no gold answers"):
        max_over_gold_answers("cat", [], "en")


@pytest.mark.parametrize("lang", ["fr", "xx", "EN", "zh-cn", ""])
def test_unknown_language_is_an_error(lang: str) -> None:
    with pytest.raises(UnknownLanguageError, match="unknown language code") as info:
        normalize_answer("The answer", lang)
    assert "supported: ar, bn, de" in str(info.value)


def test_every_xquad_tydi_and_cjk_language_has_a_rule() -> None:
    expected = set(XQUAD_LANGUAGES) | set(TYDI_LANGUAGES) | {"ja", "ko", "es", "de", "vi", "hi"}
    expected.add("pt")  # the machine-translated slot language of issue 32
    assert set(SUPPORTED_LANGUAGES) == expected
    for lang in ref.MLQA_LANGUAGES:
        assert LANGUAGE_RULES[lang].source == "MLQA v1 script"


def test_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown scoring mode"):
        normalize_answer("x", "en", mode="tydi")  # type: ignore[arg-type]


def test_punctuation_is_the_scripts_set() -> None:
    expected = {
        chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")
    } | set(string.punctuation)
    assert {"«", "¿", "。", "、", "।", "$", "+", "|"} <= expected
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    kept = everything.translate(normalization._PunctuationDeleter())
    assert kept == "".join(char for char in everything if char not in expected)
    assert "€" in kept and "_" not in kept


def test_regex_whitespace_is_str_split_whitespace() -> None:
    # The character segmenters split with `\s`; the scripts with str.split(). Same set?
    space = re.compile(r"\s")
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        assert (space.match(char) is not None) == char.isspace(), hex(code_point)
        assert char.isspace() == (len(f"a{char}b".split()) == 2), hex(code_point)


# ------------------------------------------------------------------------------------------
# Generated inputs against the independent re-implementation of the official rules.
# ------------------------------------------------------------------------------------------
PIECES = [
    *"abcdeABCDE0129_",
    *" \t\n\xa0\u3000\u2009\x1c\x85",
    *string.punctuation,
    *"«»¿¡“”‘’–—…、。，！？「」・।؟،٪‐",
    *"€£°©™^`~|+<=>$",
    " the ",
    "The",
    " a ",
    "an",
    "theatre",
    " el ",
    "La",
    " los ",
    "una",
    " der ",
    "Die",
    "des",
    "eines",
    "ال",
    "الكتاب",
    "فالح",
    "ا",
    "ل",
    " của ",
    "Cái",
    "những",
    "là",
    "cu\u0309a",  # decomposed "của": not an article
    "北京",
    "年",
    "\u9fa5\u9fa6",
    "\u3400",
    "\U00020bb7",
    "カタカナ",
    "ひらがな",
    "ー",
    "ที่สุด",
    "ฯ",
    "\u0e48",
    "भारत",
    "की",
    "Москва",
    "Αθήνα",
    "ΣΑΣ",
    "İ",
    "ß",
    "ǅ",
    "\u0301",
    "\u200b",
    "\ufeff",
]
texts = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
    st.text(max_size=12),
)
EQUIVALENCE = settings(max_examples=250, deadline=None)


@EQUIVALENCE
@given(text=texts, lang=st.sampled_from(ref.MLQA_LANGUAGES))
def test_mlqa_normalisation_matches_reference(text: str, lang: str) -> None:
    assert normalize_answer(text, lang) == ref.mlqa_normalize(text, lang)


@EQUIVALENCE
@given(text=texts, lang=st.sampled_from(SUPPORTED_LANGUAGES))
def test_squad_normalisation_matches_reference(text: str, lang: str) -> None:
    assert normalize_answer(text, lang, mode="squad") == ref.squad_normalize(text)


@EQUIVALENCE
@given(
    prediction=texts,
    golds=st.lists(texts, min_size=1, max_size=3),
    lang=st.sampled_from(ref.MLQA_LANGUAGES),
    mode=st.sampled_from(["mlqa", "squad"]),
)
def test_scores_match_reference_exactly(
    prediction: str, golds: list[str], lang: str, mode: str
) -> None:
    ref_em, ref_f1 = ref.em_and_f1(prediction, golds, lang, mode)
    em, f1 = max_over_gold_answers(prediction, golds, lang, mode)  # type: ignore[arg-type]
    assert em == float(ref_em)
    assert f1 == ref_f1  # exactly: same floating-point operations
    gold = golds[0]
    assert exact_match(prediction, gold, lang, mode) == float(  # type: ignore[arg-type]
        ref.normalize(prediction, lang, mode) == ref.normalize(gold, lang, mode)
    )
    assert f1_score(prediction, gold, lang, mode) == ref.f1_of_strings(  # type: ignore[arg-type]
        ref.normalize(prediction, lang, mode), ref.normalize(gold, lang, mode)
    )


@EQUIVALENCE
@given(text=texts, lang=st.sampled_from(SUPPORTED_LANGUAGES))
def test_tokens_are_the_normalised_string_split(text: str, lang: str) -> None:
    tokens = answer_tokens(text, lang)
    assert all(token and not any(char.isspace() for char in token) for token in tokens)
    assert normalize_answer(text, lang).split() == tokens


@EQUIVALENCE
@given(text=texts, lang=st.sampled_from(EXTENSION_WHITESPACE))
def test_extension_whitespace_languages(text: str, lang: str) -> None:
    # Lower-case, drop MLQA punctuation, split on whitespace: Hindi's rule.
    punct = ref.mlqa_punctuation()
    expected = "".join(char for char in text.lower() if char not in punct).split()
    assert answer_tokens(text, lang) == expected
    assert answer_tokens(text, lang) == answer_tokens(text, "hi")


@EQUIVALENCE
@given(text=texts)
def test_thai_clusters(text: str) -> None:
    tokens = answer_tokens(text, "th")
    for token in tokens:
        if "\u0e00" <= token[0] <= "\u0e7f":
            # A Thai character and only combining marks after it.
            assert all(unicodedata.category(char) == "Mn" for char in token[1:]), token
        else:
            assert not any("\u0e00" <= char <= "\u0e7f" for char in token), token
    assert "".join(tokens) == "".join(normalize_answer(text, "hi").split())


@EQUIVALENCE
@given(text=texts)
@example(text="0\u31c0")  # CJK STROKE T: a CJK block, but not an ideograph (not split)
@example(text="a\uff65b")  # HALFWIDTH KATAKANA MIDDLE DOT: punctuation, not a kana letter
def test_japanese_characters(text: str) -> None:
    def is_ja(char: str) -> bool:
        # The documented rule: ideographs (by Unicode name, every CJK ideograph block), the
        # kana blocks (hiragana, katakana and its phonetic extensions, half-width katakana
        # letters) and the iteration marks; not CJK strokes, radicals or symbols.
        name = unicodedata.name(char, "")
        kana = "\u3040" <= char <= "\u30ff" or "\u31f0" <= char <= "\u31ff"
        return (
            name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))
            or kana
            or "\uff66" <= char <= "\uff9f"
            or char in "々〆〇"
        )

    tokens = answer_tokens(text, "ja")
    for token in tokens:
        assert len(token) == 1 or not any(is_ja(char) for char in token), token
    assert "".join(tokens) == "".join(normalize_answer(text, "hi").split())


# ------------------------------------------------------------------------------------------
# Against the official scripts themselves, when a copy is available (see official_scripts).
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def official_mlqa() -> ModuleType:
    return official_script("mlqa")


@pytest.fixture(scope="module")
def official_squad() -> ModuleType:
    return official_script("squad")


@EQUIVALENCE
@given(prediction=texts, gold=texts, lang=st.sampled_from(ref.MLQA_LANGUAGES))
def test_matches_official_mlqa_script(
    official_mlqa: ModuleType, prediction: str, gold: str, lang: str
) -> None:
    official = official_mlqa
    assert normalize_answer(prediction, lang) == official.normalize_answer(prediction, lang)
    assert exact_match(prediction, gold, lang) == official.exact_match_score(prediction, gold, lang)
    assert f1_score(prediction, gold, lang) == official.f1_score(prediction, gold, lang)


@EQUIVALENCE
@given(prediction=texts, gold=texts)
def test_matches_official_squad_script(
    official_squad: ModuleType, prediction: str, gold: str
) -> None:
    official = official_squad
    assert normalize_answer(prediction, "de", "squad") == official.normalize_answer(prediction)
    assert exact_match(prediction, gold, "de", "squad") == official.exact_match_score(
        prediction, gold
    )
    assert f1_score(prediction, gold, "de", "squad") == official.f1_score(prediction, gold)
