"""
Pure functions that cut a context into sentences for translation and join the translated
sentences back together.

Machine-translation models are trained on sentences and truncate long inputs (MarianMT at 512
pieces), so `allennlp xltt-translate` translates contexts sentence by sentence. It also makes
the marker method cheap: a context marked for one question differs from the plain context only
in the answer's sentence, so only that sentence is translated again (the others come from the
cache).
"""

import functools
import itertools
import re

import pysbd

# Languages written without spaces between sentences (ISO 639-1/-3 codes; a code such as
# "ja_XX", "jpn_Jpan" or "zh-CN" is looked up by its part before "_" or "-").
NO_SPACE_LANGUAGES = frozenset(
    "ja jpn zh zho cmn yue wuu th tha lo lao km khm my mya bo bod dz dzo".split()
)


@functools.lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    # English rules (abbreviations, initials, numbers, quotes); they also break after the
    # full-width ends 。！？. `char_span` gives each sentence's offset in the input.
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[str]:
    """
    Cut `text` into pieces, each a sentence followed by the whitespace after it, so that
    `"".join(split_sentences(text)) == text`. The sentence boundaries are pySBD's rule-based
    English ones (its "Golden Rules": no break after abbreviations such as `Mr.`, `St.`,
    `e.g.`, initials, decimal numbers, or inside a quotation; a break after `。`, `！`, `？`).
    The pieces are cut from `text` itself at the start offsets pySBD reports, so no character
    is lost or changed. A text without breaks is one piece.
    """
    if not text:
        return [text]
    starts = sorted(
        {span.start for span in _segmenter().segment(text) if 0 < span.start < len(text)}
    )
    bounds = [0, *starts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def uses_spaces(language: str) -> bool:
    """Whether sentences of `language` are separated by spaces (`False` for ja, zh, th...)."""
    return re.split(r"[-_]", language.lower(), maxsplit=1)[0] not in NO_SPACE_LANGUAGES


def sentence_and_separator(piece: str) -> tuple[str, str, str]:
    """`(leading whitespace, sentence, trailing whitespace)` of a piece of `split_sentences`."""
    stripped = piece.strip()
    if not stripped:
        return piece, "", ""
    lead = piece[: len(piece) - len(piece.lstrip())]
    trail = piece[len(piece.rstrip()) :]
    return lead, stripped, trail


def join_translations(pieces: list[str], translations: list[str], target_language: str) -> str:
    """
    Join translated sentences: each translation (outer whitespace stripped) takes the place of
    its source sentence; a source separator with a line break is kept as one line break, any
    other (even none, after `。`) becomes a space, or nothing when the target language is
    written without spaces.
    Blank pieces and blank translations are dropped.

    # Raises

    `ValueError`
        When the lists differ in length.
    """
    if len(pieces) != len(translations):
        raise ValueError(f"{len(pieces)} pieces but {len(translations)} translations")
    spaced = uses_spaces(target_language)
    parts: list[str] = []
    for index, (piece, translation) in enumerate(zip(pieces, translations)):
        translated = translation.strip()
        if not translated:
            continue
        parts.append(translated)
        if index == len(pieces) - 1:
            break
        _, _, separator = sentence_and_separator(piece)
        if "\n" in separator:
            parts.append("\n")
        elif spaced:
            parts.append(" ")
    return "".join(parts).rstrip()
