import pytest

from xltt_plugin.data.token_windows import (
    char_span_to_token_span,
    clean_token_offsets,
    paired_window,
    span_in_window,
    token_span_to_char_span,
    window_starts,
)


def test_clean_offsets_trims_space_and_drops_bare_metaspace() -> None:
    context = "The city \ufeff北京"
    pieces = ["▁The", "▁city", "▁", "北", "京"]
    raw = [(0, 3), (3, 8), (8, 10), (10, 11), (11, 12)]
    # "▁city" covers the space before it; "▁" covers whitespace and the BOM.
    assert clean_token_offsets(context, pieces, raw) == [(0, 3), (4, 8), None, (10, 11), (11, 12)]
    # A bare "▁" sharing the next character's offsets (XLM-R before CJK) gets None.
    assert clean_token_offsets("北京", ["▁", "北", "京"], [(0, 1), (0, 1), (1, 2)]) == [
        None,
        (0, 1),
        (1, 2),
    ]
    assert clean_token_offsets("a", ["x"], [None]) == [None]


def test_char_span_to_token_span_hand_worked() -> None:
    # tokens: "The" "Eagle" "land" "ed" "." with a None (bare marker) before "Eagle"
    offsets = [(0, 3), None, (4, 9), (10, 14), (14, 16), (16, 17)]
    assert char_span_to_token_span(offsets, 4, 9) == (2, 2)
    assert char_span_to_token_span(offsets, 4, 16) == (2, 4)
    assert char_span_to_token_span(offsets, 10, 14) == (3, 3)
    # Inside one token: the whole token (the mapping is inexact).
    assert char_span_to_token_span(offsets, 11, 13) == (3, 3)
    # Leading whitespace in the character span does not pull in a token.
    assert char_span_to_token_span(offsets, 3, 9) == (2, 2)
    assert char_span_to_token_span(offsets, 17, 20) is None
    assert char_span_to_token_span([None, None], 0, 1) is None


def test_token_span_to_char_span_skips_none() -> None:
    offsets = [None, (0, 3), None, (4, 9), None]
    assert token_span_to_char_span(offsets, 0, 4) == (0, 9)
    assert token_span_to_char_span(offsets, 2, 3) == (4, 9)
    assert token_span_to_char_span(offsets, 2, 2) is None


# ------------------------------------------------------------------------------ windows


def test_window_starts_hand_worked() -> None:
    assert window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert window_starts(4, 4, 2) == [0]
    assert window_starts(5, 4, 2) == [0, 2]
    assert window_starts(0, 4, 2) == [0]
    with pytest.raises(ValueError, match="longer than the stride"):
        window_starts(10, 2, 2)


@pytest.mark.parametrize("n, length, stride", [(1000, 316, 128), (317, 316, 128), (50, 7, 3)])
def test_windows_cover_everything_with_the_stride(n: int, length: int, stride: int) -> None:
    starts = window_starts(n, length, stride)
    ends = [min(s + length, n) for s in starts]
    covered: set[int] = set()
    for s, e in zip(starts, ends):
        covered.update(range(s, e))
    assert covered == set(range(n))
    assert ends[-1] == n
    for e1, s2 in zip(ends, starts[1:]):
        assert e1 - s2 == stride  # consecutive windows overlap by exactly `stride` tokens


def test_span_in_window() -> None:
    assert span_in_window((5, 7), 4, 8) == (1, 3)
    assert span_in_window((5, 8), 4, 8) is None
    assert span_in_window((3, 5), 4, 8) is None
    assert span_in_window(None, 0, 8) is None


def test_paired_window() -> None:
    # Same relative position: window 2 of 4 pivot windows -> 1 of 2 translation windows.
    assert paired_window(2, 4, 2) == 1
    assert paired_window(3, 4, 2) == 1
    assert paired_window(0, 1, 3) == 0
    assert paired_window(5, 6, 1) == 0
    # The translated answer's window wins; the nearest of several to the relative position.
    assert paired_window(0, 4, 4, answer_windows=[3]) == 3
    assert paired_window(2, 4, 4, answer_windows=[0, 3]) == 3
