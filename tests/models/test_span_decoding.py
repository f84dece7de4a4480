import itertools
import unicodedata

import pytest
import torch

from xltt_plugin.metrics.normalization import max_over_gold_answers
from xltt_plugin.models.span_decoding import (
    SpanCandidate,
    best_bounded_spans,
    merge_windows,
    span_mask,
    span_to_text,
    top_span_pairs,
    trim_glued_punctuation,
    window_candidates,
)


def brute_force_best(start, end, mask, max_len):
    """Reference: try every (i, j) pair in plain Python."""
    best = (-1, -1, None)
    for i, j in itertools.product(range(len(start)), repeat=2):
        if not (mask[i] and mask[j] and i <= j < i + max_len):
            continue
        score = start[i] + end[j]
        if best[2] is None or score > best[2]:
            best = (i, j, score)
    return best


@pytest.mark.parametrize("seed", range(20))
def test_best_bounded_spans_matches_brute_force(seed):
    generator = torch.Generator().manual_seed(seed)
    batch, length = 3, 17
    start = torch.randn(batch, length, generator=generator, dtype=torch.float64)
    end = torch.randn(batch, length, generator=generator, dtype=torch.float64)
    mask = torch.rand(batch, length, generator=generator) > 0.3
    max_len = 1 + seed % 6
    starts, ends, scores = best_bounded_spans(start, end, mask, max_len)
    for row in range(batch):
        i, j, score = brute_force_best(
            start[row].tolist(), end[row].tolist(), mask[row].tolist(), max_len
        )
        assert (int(starts[row]), int(ends[row])) == (i, j)
        if score is not None:
            assert float(scores[row]) == pytest.approx(score)


def test_best_bounded_spans_empty_mask_gives_no_span():
    start = torch.zeros(2, 5)
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[1, 2] = True
    starts, ends, _ = best_bounded_spans(start, start, mask, 3)
    assert starts.tolist() == [-1, 2]
    assert ends.tolist() == [-1, 2]


def test_best_span_never_exceeds_max_length_even_when_longer_scores_higher():
    start = torch.tensor([[10.0, 0.0, 0.0, 0.0, 0.0]])
    end = torch.tensor([[0.0, 0.0, 0.0, 0.0, 10.0]])
    mask = torch.ones(1, 5, dtype=torch.bool)
    starts, ends, scores = best_bounded_spans(start, end, mask, 3)
    # (0, 4) would score 20 but is 5 tokens long; best allowed is start 0 with an end <= 2.
    assert int(starts[0]) == 0 and int(ends[0]) <= 2
    assert float(scores[0]) == pytest.approx(10.0)


def test_top_span_pairs_are_valid_sorted_and_start_with_exact_best():
    generator = torch.Generator().manual_seed(3)
    start = torch.randn(2, 12, generator=generator)
    end = torch.randn(2, 12, generator=generator)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[:, :3] = False
    pairs = top_span_pairs(start, end, mask, max_answer_length=4, n_best=5)
    for row in range(2):
        ref = brute_force_best(start[row].tolist(), end[row].tolist(), mask[row].tolist(), 4)
        assert pairs[row][0][:2] == ref[:2]
        scores = [p[2] for p in pairs[row]]
        assert scores == sorted(scores, reverse=True)
        assert len(pairs[row]) == 5
        for i, j, score in pairs[row]:
            assert mask[row, i] and mask[row, j] and i <= j < i + 4
            assert score == pytest.approx(float(start[row, i] + end[row, j]))


def test_span_mask_inclusive_and_empty():
    mask = span_mask(torch.tensor([[1, 3], [-1, -1]]), 5)
    assert mask.tolist() == [[False, True, True, True, False], [False] * 5]


def test_span_to_text_steps_over_tokens_without_offsets():
    context = "北京大学位于北京。"
    # <s>, question token, </s>, </s>, "▁" (no offset), 北, 京, 大, 学
    offsets = [None, None, None, None, (0, 0), (0, 1), (1, 2), (2, 3), (3, 4)]
    assert span_to_text(context, offsets, 4, 8) == ("北京大学", 0, 4)
    assert span_to_text(context, offsets, 0, 4) is None


def test_window_candidates_and_merge_across_windows():
    context = "alpha beta gamma delta"
    offsets_w0 = [None, (0, 5), (6, 10)]
    offsets_w1 = [None, (6, 10), (11, 16)]
    c0 = window_candidates([(1, 2, 1.0), (2, 2, 0.5)], context, offsets_w0, 0)
    c1 = window_candidates([(1, 1, 0.9), (2, 2, 2.0)], context, offsets_w1, 1)
    assert [c.text for c in c0] == ["alpha beta", "beta"]
    merged = merge_windows(c0 + c1, n_best=3)
    # "beta" appears in both windows: kept once with its best score (0.9).
    assert [(c.text, c.score, c.window_index) for c in merged] == [
        ("gamma", 2.0, 1),
        ("alpha beta", 1.0, 0),
        ("beta", 0.9, 1),
    ]


def test_merge_windows_empty_gives_empty():
    assert merge_windows([], 5) == []
    single = SpanCandidate("x", 1.0, 0, 1, 0, 1, 1)
    assert merge_windows([single], 0) == []


# ------------------------------------------------------------------------------ trimming


@pytest.mark.parametrize(
    "text, trimmed",
    [
        ("2014,", "2014"),
        ("(1685)", "1685"),
        ("(1685),", "1685"),
        ("计算问题。", "计算问题"),
        ("、中国", "中国"),
        ("（JR东日本）", "JR东日本"),
        ("Luke Kuechly.", "Luke Kuechly"),
        ('abc"', "abc"),
        ("“abc", "abc"),
        ("abc“", "abc"),
        ("abc (", "abc"),
        ("abc)", "abc"),
        ("abc (d)", "abc (d)"),
        # Kept: abbreviations, balanced quotes and title brackets, symbols, inner brackets.
        ("U.S.", "U.S."),
        ("“我们是乞丐”", "“我们是乞丐”"),
        ("„Suntem cerșetori”", "„Suntem cerșetori”"),
        ("„Wir sind Bettler“", "„Wir sind Bettler“"),
        ("《红楼梦》", "《红楼梦》"),
        ('"abc"', '"abc"'),
        ("19.3%", "19.3%"),
        ("DTIME(f(n))", "DTIME(f(n))"),
        ("(1) foo (2)", "(1) foo (2)"),
        ("(a (b))", "a (b)"),
        # Nothing but punctuation: kept whole.
        (",", ","),
        ("」。", "」。"),
    ],
)
def test_trim_glued_punctuation(text: str, trimmed: str) -> None:
    start, end = trim_glued_punctuation(text)
    assert text[start:end] == trimmed


def test_trim_stays_within_the_bounds() -> None:
    # "▁" "(" "1685" ")" as separate pieces: the model chose the brackets on its own.
    assert trim_glued_punctuation("(1685)", max_start=0, min_end=6) == (0, 6)
    # Only the end may move: "(1685" keeps its unmatched "(".
    assert trim_glued_punctuation("(1685),", max_start=0, min_end=5) == (0, 6)
    # Bounds never let the trim pass the text's first / last letter.
    assert trim_glued_punctuation("a,", max_start=5, min_end=0) == (0, 1)


def test_span_to_text_trims_only_what_the_edge_pieces_glued_on() -> None:
    context = "Er kam 2014, (1685) und 1685 ( 。」。"
    # <s>, "▁2014," (7, 12); "▁(1685)" (13, 19); "▁1685" (24, 28); "▁(" (29, 30);
    # "▁。" (31, 32); "」。" (32, 34)
    offsets = [None, (7, 12), (13, 19), (24, 28), (29, 30), (31, 32), (32, 34)]
    assert span_to_text(context, offsets, 1, 1) == ("2014", 7, 11)
    assert span_to_text(context, offsets, 1, 1, trim=False) == ("2014,", 7, 12)
    assert span_to_text(context, offsets, 2, 2) == ("1685", 14, 18)
    # The ")" closes the "(" inside the span: kept.
    assert span_to_text(context, offsets, 1, 2) == ("2014, (1685)", 7, 19)
    # A piece of punctuation alone at an edge keeps its own character: the model chose it.
    assert span_to_text(context, offsets, 3, 4) == ("1685 (", 24, 30)
    assert span_to_text(context, offsets, 3, 5) == ("1685 ( 。", 24, 32)
    # "」。": a piece of punctuation alone keeps its first character.
    assert span_to_text(context, offsets, 3, 6) == ("1685 ( 。」", 24, 33)


@pytest.mark.parametrize("language", ["en", "de", "zh", "ar", "th", "hi", "ru"])
def test_trimming_never_changes_em_or_f1(language: str) -> None:
    golds = ["2014", "U.S.", "《红楼梦》", "1685", "计算问题", "Luke Kuechly."]
    for text in ["2014,", "(1685)", "计算问题。", "Luke Kuechly.", "“abc", '"x" y"', "a (b))"]:
        start, end = trim_glued_punctuation(text)
        removed = text[:start] + text[end:]
        assert all(c.isspace() or unicodedata.category(c).startswith("P") for c in removed)
        for gold in golds:
            assert max_over_gold_answers(text[start:end], [gold], language) == (
                max_over_gold_answers(text, [gold], language)
            )
