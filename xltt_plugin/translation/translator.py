"""
The `Translator` abstraction used by `allennlp xltt-translate` to build the parallel corpora
of XLTT (paper §4.1, step 1).
"""

from typing import Optional

from allennlp.common import Registrable

from xltt_plugin.translation.span_preservation import DEFAULT_MARKERS, validate_markers


class Translator(Registrable):
    """
    Translates batches of texts from one language into another.

    A translator has an `identity`: a string that changes whenever its output for a given text
    could change (model, languages, generation settings, glossary content). The translation
    cache is keyed by (identity, target language, text).

    Its `markers` are the pair of strings wrapped around an answer before its context is
    translated (the marker method of span preservation); `None` turns the marker method off,
    leaving only the search for the separately translated answer. Pick strings the model
    copies through unchanged.

    # Parameters

    target_lang : `str`, optional (default=`None`)
        The target language code, in the model's convention when it needs one (`"ja"` for
        M2M100, `"jpn_Jpan"` for NLLB, `"ja_XX"` for mBART-50). `allennlp xltt-translate` fills
        it in from `--target-lang` when the configuration leaves it out.
    source_lang : `str`, optional (default=`None`)
        The source language code, same convention.
    batch_size : `int`, optional (default=`32`)
        How many texts `allennlp xltt-translate` passes to `translate` at once (and caches
        after each call).
    markers : `Tuple[str, str]`, optional (default=`("<a>", "</a>")`)
        Opening and closing answer markers; `None` to disable the marker method.
    """

    def __init__(
        self,
        target_lang: Optional[str] = None,
        source_lang: Optional[str] = None,
        batch_size: int = 32,
        markers: Optional[tuple[str, str]] = DEFAULT_MARKERS,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.target_lang = target_lang
        self.source_lang = source_lang
        self.batch_size = batch_size
        self.markers: Optional[tuple[str, str]] = (
            None if markers is None else validate_markers(markers)
        )

    @property
    def identity(self) -> str:
        """
        A string that identifies this translator's output function for caching (e.g.
        `"hf_seq2seq:Helsinki-NLP/opus-mt-en-jap:en>ja:max_length=512:num_beams=1"`).
        """
        raise NotImplementedError

    def translate(self, texts: list[str]) -> list[str]:
        """
        Translate `texts` into the target language.

        # Returns

        `List[str]`
            One translation per text, in order.
        """
        raise NotImplementedError
