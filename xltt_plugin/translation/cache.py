"""
A translation cache that doubles as the resume log of `allennlp xltt-translate`.

The file is JSON lines, one translation per line,
`{"model": identity, "lang": target language, "text": source text, "translation": output}`,
appended and flushed after every batch, so an interrupted run loses at most the batch in
flight and a re-run translates only what is missing. Plain JSON only (never pickle): the file
is safe to inspect, edit, share and merge (`cat a.jsonl b.jsonl`); a later line for the same
key wins.
"""

import json
import logging
import os
from collections.abc import Iterable
from types import TracebackType
from typing import IO

logger = logging.getLogger(__name__)

CacheKey = tuple[str, str, str]


class TranslationCacheError(ValueError):
    """A malformed cache file; the message names the file and line."""


class TranslationCache:
    """
    Translations keyed by (model identity, target language, source text), kept in memory and,
    when `path` is given, in an append-only JSON-lines file.

    Opening an existing file loads it. A last line cut off by an interruption (no final
    newline, not valid JSON) is dropped from the file with a warning; any other malformed line
    is an error naming the file and line number.

    # Parameters

    path : `str`, optional (default=`None`)
        The JSON-lines file; created (with its folder) if missing. `None`: memory only.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._entries: dict[CacheKey, str] = {}
        self._handle: IO[str] | None = None
        if path is not None:
            self._load(path)

    def _load(self, path: str) -> None:
        if not os.path.exists(path):
            return
        with open(path, "rb") as handle:
            raw = handle.read()
        lines = raw.split(b"\n")
        complete, last = lines[:-1], lines[-1]
        for number, line in enumerate(complete, start=1):
            if line.strip():
                self._parse(line, path, number)
        if last.strip():
            try:
                self._parse(last, path, len(lines))
                with open(path, "ab") as handle:  # complete the final line
                    handle.write(b"\n")
            except TranslationCacheError:
                logger.warning(
                    "%s: dropping the incomplete last line %d (an interrupted write)",
                    path,
                    len(lines),
                )
                with open(path, "r+b") as handle:
                    handle.truncate(len(raw) - len(last))

    def _parse(self, line: bytes, path: str, number: int) -> None:
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise TranslationCacheError(
                f"{path}: line {number} is not UTF-8 JSON: {error}"
            ) from error
        fields = ("model", "lang", "text", "translation")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise TranslationCacheError(
                f"{path}: line {number} is not a translation-cache entry (expected an object "
                "with string fields model, lang, text, translation)"
            )
        self._entries[(entry["model"], entry["lang"], entry["text"])] = entry["translation"]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, model: str, lang: str, text: str) -> str | None:
        """The cached translation of `text`, or `None`."""
        return self._entries.get((model, lang, text))

    def add(self, model: str, lang: str, pairs: Iterable[tuple[str, str]]) -> None:
        """
        Store `(text, translation)` pairs of one batch, append them to the file and flush.
        """
        lines = []
        for text, translation in pairs:
            self._entries[(model, lang, text)] = translation
            entry = {"model": model, "lang": lang, "text": text, "translation": translation}
            lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
        if self.path is None or not lines:
            return
        if self._handle is None:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")
        self._handle.write("".join(lines))
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
