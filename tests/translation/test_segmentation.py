import pytest

from xltt_plugin.translation.segmentation import (
    join_translations,
    split_sentences,
    uses_spaces,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One. ", "Two! ", "Three? ", "Four"]),
        ('He said "Go." Then left.', ['He said "Go." ', "Then left."]),
        # Initials, abbreviations and a lower-case continuation do not end sentences.
        (
            "John F. Kennedy met Mr. Smith in St. Louis. It rained, e.g. there. Done.",
            ["John F. Kennedy met Mr. Smith in St. Louis. ", "It rained, e.g. there. ", "Done."],
        ),
        ("1.5 kg and 3.2 km. Next", ["1.5 kg and 3.2 km. ", "Next"]),
        (
            "東京は首都です。人口は多い！本当？はい",
            ["東京は首都です。", "人口は多い！", "本当？", "はい"],
        ),
        ("First line.\n\nSecond line.", ["First line.\n\n", "Second line."]),
        ("No break at all", ["No break at all"]),
        ("", [""]),
    ],
)
def test_split_sentences_hand_worked(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected
    assert "".join(split_sentences(text)) == text


def test_markers_do_not_move_sentence_breaks() -> None:
    plain = "It landed in 1969. The crew came home."
    marked = "It landed in <a>1969</a>. The crew came home."
    assert split_sentences(plain)[1:] == split_sentences(marked)[1:]


def test_uses_spaces() -> None:
    assert uses_spaces("ko") and uses_spaces("en") and uses_spaces("xx")
    assert not uses_spaces("ja") and not uses_spaces("jpn_Jpan")
    assert not uses_spaces("zh-CN") and not uses_spaces("ja_XX") and not uses_spaces("th")


def test_join_translations_per_target_language() -> None:
    pieces = ["One. ", "Two.\n", "Three."]
    translations = [" Un. ", "Deux.", "Trois."]
    assert join_translations(pieces, translations, "fr") == "Un. Deux.\nTrois."
    assert join_translations(pieces, ["一。", "二。", "三。"], "ja") == "一。二。\n三。"
    # A CJK source without spaces still gets spaces in a spaced target.
    assert join_translations(["一。", "二。"], ["One.", "Two."], "en") == "One. Two."
    # Blank translations are dropped with their separator.
    assert join_translations(pieces, ["Un.", "", "Trois."], "fr") == "Un. Trois."
    with pytest.raises(ValueError):
        join_translations(pieces, ["Un."], "fr")
