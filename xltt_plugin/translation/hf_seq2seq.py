"""
A `Translator` backed by a Hugging Face sequence-to-sequence translation model.
"""

import logging
from typing import Any, Optional

import torch
from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation.span_preservation import DEFAULT_MARKERS
from xltt_plugin.translation.translator import Translator

logger = logging.getLogger(__name__)


@Translator.register("hf_seq2seq")
class HfSeq2SeqTranslator(Translator):
    """
    Translates with a Hugging Face encoder-decoder model (`AutoModelForSeq2SeqLM`): MarianMT
    (OPUS-MT), M2M100, NLLB, mBART-50. Texts are sorted by length, cut into batches of
    `batch_size`, truncated to `max_length` pieces and decoded greedily (or with `num_beams`).

    Language codes follow the model: M2M100 takes ISO codes (`"en"`, `"ja"`), NLLB FLORES-200
    codes (`"eng_Latn"`, `"jpn_Jpan"`), mBART-50 its own (`"en_XX"`, `"ja_XX"`); for these the
    source code sets the tokenizer's `src_lang` and the target code is forced as the first
    generated token. A MarianMT model has one language pair (the codes are labels only); a
    multi-target OPUS-MT model needs its target token as `prefix` (e.g. `">>jpn<< "`).

    The cache identity is `hf_seq2seq:{model_name}:{source_lang}>{target_lang}` plus the
    generation settings: a model folder whose content changes under the same path needs a new
    cache file.

    Registered as a `Translator` with name "hf_seq2seq".

    # Parameters

    model_name : `str`
        A model name on the Hugging Face hub (`"Helsinki-NLP/opus-mt-en-jap"`,
        `"facebook/m2m100_418M"`, `"facebook/nllb-200-distilled-600M"`) or a local folder.
    source_lang : `str`, optional (default=`None`)
        Source language code in the model's convention (needed by M2M100, NLLB, mBART-50).
    target_lang : `str`, optional (default=`None`)
        Target language code in the model's convention; `allennlp xltt-translate` sets it from
        `--target-lang` when left out.
    batch_size : `int`, optional (default=`16`)
    device : `str`, optional (default=`"cpu"`)
        A torch device (`"cpu"`, `"cuda"`, `"cuda:1"`).
    max_length : `int`, optional (default=`512`)
        Inputs are truncated to this many pieces (with a warning), and at most this many
        pieces are generated. `xltt-translate` translates contexts sentence by sentence, so
        this rarely bites.
    num_beams : `int`, optional (default=`1`)
        Beam size (1: greedy decoding).
    prefix : `str`, optional (default=`None`)
        Prepended to every input (a target-language token such as `">>jpn<< "`).
    markers : `Tuple[str, str]`, optional (default=`("<a>", "</a>")`)
        Answer markers for the marker method; `None` to disable it.
    """

    def __init__(
        self,
        model_name: str,
        source_lang: Optional[str] = None,
        target_lang: Optional[str] = None,
        batch_size: int = 16,
        device: str = "cpu",
        max_length: int = 512,
        num_beams: int = 1,
        prefix: Optional[str] = None,
        markers: Optional[tuple[str, str]] = DEFAULT_MARKERS,
    ) -> None:
        super().__init__(
            target_lang=target_lang, source_lang=source_lang, batch_size=batch_size, markers=markers
        )
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        if max_length < 1 or num_beams < 1:
            raise ConfigurationError(
                f"max_length and num_beams must be positive, got {max_length} and {num_beams}"
            )
        self.model_name = model_name
        self.max_length = max_length
        self.num_beams = num_beams
        self.prefix = prefix
        self.device = torch.device(device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_name)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(model_name)
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"cannot load the translation model {model_name!r}: {error}"
            ) from error
        self.model.to(self.device)
        self.model.eval()
        self.model_type: str = self.model.config.model_type
        self._forced_bos_token_id = self._language_setup()

    def _language_setup(self) -> Optional[int]:
        """Set the tokenizer's source language; return the forced first token, if any."""
        if self.model_type == "marian":
            return None
        if self.source_lang is not None and hasattr(self.tokenizer, "src_lang"):
            try:
                self.tokenizer.src_lang = self.source_lang
            except (KeyError, ValueError) as error:
                raise ConfigurationError(
                    f"{self.model_name}: unknown source_lang {self.source_lang!r} ({error})"
                ) from error
        if self.target_lang is None:
            return None
        if hasattr(self.tokenizer, "get_lang_id"):  # M2M100: "ja" -> "__ja__"
            try:
                return int(self.tokenizer.get_lang_id(self.target_lang))
            except KeyError as error:
                raise ConfigurationError(
                    f"{self.model_name}: unknown target_lang {self.target_lang!r} (M2M100 "
                    "codes look like 'ja')"
                ) from error
        token_id = self.tokenizer.convert_tokens_to_ids(self.target_lang)
        if token_id is None or token_id == self.tokenizer.unk_token_id:
            raise ConfigurationError(
                f"{self.model_name}: target_lang {self.target_lang!r} is not a language token of "
                "this model (NLLB codes look like 'jpn_Jpan', mBART-50 codes like 'ja_XX')"
            )
        return int(token_id)

    @property
    def identity(self) -> str:
        identity = (
            f"hf_seq2seq:{self.model_name}:{self.source_lang}>{self.target_lang}"
            f":max_length={self.max_length}:num_beams={self.num_beams}"
        )
        if self.prefix:
            identity += f":prefix={self.prefix!r}"
        return identity

    def _translate_batch(self, texts: list[str]) -> list[str]:
        inputs = [(self.prefix or "") + text for text in texts]
        batch = self.tokenizer(
            inputs,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_length,
        )
        # shape: (batch,)
        lengths = batch["attention_mask"].sum(dim=1)
        truncated = int((lengths >= self.max_length).sum())
        if truncated:
            logger.warning(
                "%d input(s) reached max_length=%d pieces and may have been truncated",
                truncated,
                self.max_length,
            )
        batch = {key: value.to(self.device) for key, value in batch.items()}
        generation: dict[str, Any] = {
            "max_new_tokens": self.max_length,
            "num_beams": self.num_beams,
        }
        if self._forced_bos_token_id is not None:
            generation["forced_bos_token_id"] = self._forced_bos_token_id
        with torch.inference_mode():
            # shape: (batch, generated_length)
            outputs = self.model.generate(**batch, **generation)
        return [
            text.strip() for text in self.tokenizer.batch_decode(outputs, skip_special_tokens=True)
        ]

    def translate(self, texts: list[str]) -> list[str]:
        # Longest first (less padding per batch); blank texts translate to "" without the model.
        order = sorted(
            (i for i, text in enumerate(texts) if text.strip()), key=lambda i: (-len(texts[i]), i)
        )
        translations: list[str] = [""] * len(texts)
        for begin in range(0, len(order), self.batch_size):
            indices = order[begin : begin + self.batch_size]
            outputs = self._translate_batch([texts[i] for i in indices])
            for i, translation in zip(indices, outputs):
                translations[i] = translation
        return translations
