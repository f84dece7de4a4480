"""
Pure functions that cut a context into sentences for translation and join the translated
sentences back together.

Machine-translation models are trained on sentences and truncate long inputs (MarianMT at 512
pieces), so `allennlp xltt-translate` translates contexts sentence by sentence. It also makes
the marker method cheap: a context marked for one question differs from the plain context only
in the answer's sentence, so only that sentence is translated again (the others come from the
cache).
"""

import re

# Latin-style sentence ends: . ! ? (plus closing quotes/brackets) followed by whitespace;
# full-width ends (。！？) need no whitespace after them.
_BOUNDARY = re.compile(r"[.!?][\"'”’»)\]]*\s+|[。！？][\"'」』”’）]*\s*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc no nos fig figs vol pp ca cf approx gen col lt sgt "
    "capt cmdr adm gov sen rep rev inc ltd co corp jan feb mar apr jun jul aug sep sept oct "
    "nov dec mt ft".split()
)
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\.$")

# Languages written without spaces between sentences (ISO 639-1/-3 codes; a code such as
# "ja_XX", "jpn_Jpan" or "zh-CN" is looked up by its part before "_" or "-").
NO_SPACE_LANGUAGES = frozenset(
    "ja jpn zh zho cmn yue wuu th tha lo lao km khm my mya bo bod dz dzo".split()
)


def _is_false_boundary(text: str, end_of_sentence: int, next_start: int) -> bool:
    """An abbreviation or initial before a period, or a lower-case letter after the break."""
    if next_start < len(text) and text[next_start].islower():
        return True
    head = text[:end_of_sentence].rstrip("\"'”’»)] ")
    if not head.endswith("."):
        return False
    match = _WORD_BEFORE.search(head)
    if match is None:
        return False
    word = match.group(1)
    return len(word) == 1 or word.lower() in _ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """
    Cut `text` into pieces, each a sentence followed by the whitespace after it, so that
    `"".join(split_sentences(text)) == text`. A break is made after `.`, `!` or `?` (and closing
    quotes or brackets) followed by whitespace, unless the next character is lower-case or the
    period ends a one-letter initial or a common abbreviation (`Mr.`, `St.`, `Jan.`...), and
    after `。`, `！`, `？`. A text without breaks is one piece.
    """
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if end >= len(text):
            break
        sentence_end = match.start() + len(match.group().rstrip())
        if _is_false_boundary(text, sentence_end, end):
            continue
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return [piece for piece in pieces if piece] or [text]


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
