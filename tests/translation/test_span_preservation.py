import pytest

from xltt_plugin.translation.span_preservation import (
    DEFAULT_MARKERS,
    can_mark,
    find_answer,
    normalise,
    strip_markers,
    validate_markers,
    wrap_answer,
)


def test_wrap_answer_inserts_markers_without_spaces() -> None:
    context = "Apollo 11 was commanded by Neil Armstrong."
    start = context.index("Neil Armstrong")
    wrapped = wrap_answer(context, start, start + len("Neil Armstrong"), DEFAULT_MARKERS)
    assert wrapped == "Apollo 11 was commanded by <a>Neil Armstrong</a>."


@pytest.mark.parametrize("span", [(3, 3), (-1, 2), (2, 99)])
def test_wrap_answer_rejects_bad_spans(span: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="empty or outside"):
        wrap_answer("abcdef", span[0], span[1], DEFAULT_MARKERS)


def test_strip_markers_round_trips_every_whole_word_span() -> None:
    context = "Die Donau fließt ins Schwarze Meer, 2850 km lang."
    for start in range(len(context)):
        for end in range(start + 1, len(context) + 1):
            if context[start:end] != context[start:end].strip():
                continue
            marked = strip_markers(wrap_answer(context, start, end, ("[[", "]]")), ("[[", "]]"))
            assert marked is not None
            assert (marked.context, marked.start, marked.end) == (context, start, end)


@pytest.mark.parametrize(
    ("translation", "context", "answer"),
    [
        ("was <a>Neil</a> here", "was Neil here", "Neil"),
        # Whitespace the model put inside the markers is dropped next to existing spaces...
        ("was <a> Neil </a> here", "was Neil here", "Neil"),
        # ...and kept where it is the only separator.
        ("was<a> Neil </a>here", "was Neil here", "Neil"),
        ("<a>Neil</a>", "Neil", "Neil"),
        ("ニールは<a>アームストロング</a>です", "ニールはアームストロングです", "アームストロング"),
    ],
)
def test_strip_markers_hand_worked(translation: str, context: str, answer: str) -> None:
    marked = strip_markers(translation, DEFAULT_MARKERS)
    assert marked is not None
    assert marked.context == context
    assert marked.text == answer
    assert marked.start == context.index(answer)


@pytest.mark.parametrize(
    "translation",
    [
        "no markers at all",
        "only <a>an opening one",
        "only a closing</a> one",
        "<a>two</a> pairs <a>here</a>",
        "reversed </a>pair<a>",
        "empty <a>  </a> pair",
        "< a >mangled</ a >",
    ],
)
def test_strip_markers_rejects_ill_formed_pairs(translation: str) -> None:
    assert strip_markers(translation, DEFAULT_MARKERS) is None


@pytest.mark.parametrize(
    "markers", [("<a>", "<a>"), ("<a>", "<a>x"), ("", "]"), (" ", "]"), ("[",)]
)
def test_validate_markers_rejects_unusable_pairs(markers: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        validate_markers(markers)


def test_can_mark() -> None:
    assert can_mark("plain text", DEFAULT_MARKERS)
    assert not can_mark("HTML like <a> in the text", DEFAULT_MARKERS)


def test_normalise_hand_worked() -> None:
    assert normalise("3,776 Metres!") == "3776metres"
    assert normalise("ＡＢＣ　ｄｅ") == "abcde"  # full-width letters and space (NFKC)
    assert normalise("ニール・アームストロング") == "ニールアームストロング"


def test_find_answer_exact_prefers_whole_words_then_expected_position() -> None:
    context = "Eagles flew over. The Eagle landed. Later the Eagle lifted off."
    first_whole = context.index("Eagle landed")
    second_whole = context.index("Eagle lifted")
    # "Eagles" (position 0) is nearest to 0.0 but not a whole word.
    found = find_answer(context, "Eagle", expected_position=0.0)
    assert found is not None and (found.start, found.method) == (first_whole, "exact")
    found = find_answer(context, "Eagle", expected_position=0.9)
    assert found is not None and found.start == second_whole
    found = find_answer(context, " Eagle ")  # outer whitespace is ignored
    assert found is not None and (found.start, found.end) == (first_whole, first_whole + 5)


def test_find_answer_normalised_maps_back_to_the_original_characters() -> None:
    context = "It rises to 3,776 Metres, the highest peak."
    found = find_answer(context, "3776 metres")
    assert found is not None
    assert found.method == "normalised"
    assert context[found.start : found.end] == "3,776 Metres"


def test_find_answer_fuzzy_hand_worked_ratio_and_threshold() -> None:
    context = "Eagle touched down in the Sea of Tranquility in July."
    # normalised: "seaoftranquillity" (17 chars) vs the span "seaoftranquility" (16 chars);
    # all 16 characters of the shorter match, so difflib's ratio is 2 * 16 / 33.
    found = find_answer(context, "Sea of Tranquillity", fuzzy_threshold=0.8)
    assert found is not None
    assert found.method == "fuzzy"
    assert context[found.start : found.end] == "Sea of Tranquility"
    assert found.score == pytest.approx(32 / 33)
    assert find_answer(context, "Sea of Tranquillity", fuzzy_threshold=0.97) is None
    assert find_answer(context, "Sea of Tranquillity", fuzzy_threshold=None) is None


def test_find_answer_fuzzy_on_text_without_spaces() -> None:
    context = "アポロ11号は静かの海に着陸した。"
    found = find_answer(context, "静かな海", fuzzy_threshold=0.7)
    # "静かな海" vs "静かの海": 3 of 4 characters match: ratio 2 * 3 / 8 = 0.75.
    assert found is not None
    assert context[found.start : found.end] == "静かの海"
    assert found.score == pytest.approx(0.75)


def test_find_answer_not_found() -> None:
    assert find_answer("The Danube flows east.", "Volga") is None
    assert find_answer("The Danube flows east.", "   ") is None
    assert find_answer("", "Danube") is None
