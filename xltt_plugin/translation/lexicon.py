"""
A deterministic glossary translator: word by word (and phrase by phrase) from a TSV or JSON
glossary. For tests, and for users who want fixed renderings of names and terms.
"""

import hashlib
import json
import os
import re
from typing import Optional

from allennlp.common.checks import ConfigurationError

from xltt_plugin.translation.span_preservation import DEFAULT_MARKERS
from xltt_plugin.translation.translator import Translator

# Characters of scripts written without spaces are looked up one at a time (so a glossary can
# hold multi-character phrases: entries match greedily, longest first).
_NO_SPACE = "\u0e00-\u0e7f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LEXICAL = rf"[{_NO_SPACE}]|(?:(?![{_NO_SPACE}])[^\W_])+|[^\w\s]|_"

Token = tuple[str, str]  # (kind, text); kind: "lexical", "space" or "marker"


def tokenise(text: str, markers: Optional[tuple[str, str]] = None) -> list[Token]:
    """
    Cut `text` into marker, whitespace and lexical tokens (a word of letters and digits, one
    character of a script without spaces, or one punctuation character). Concatenating the
    token texts gives `text` back.
    """
    alternatives = []
    if markers is not None:
        alternatives.append(
            "(?P<marker>"
            + "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
            + ")"
        )
    alternatives += [r"(?P<space>\s+)", f"(?P<lexical>{_LEXICAL})"]
    pattern = re.compile("|".join(alternatives))
    tokens: list[Token] = []
    for match in pattern.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group()))
    return tokens


def _lexical_key(source: str) -> tuple[str, ...]:
    return tuple(text for kind, text in tokenise(source) if kind == "lexical")


def read_glossary(path: str) -> list[tuple[int, str, str]]:
    """
    The entries `(line number, source, target)` of a glossary file.

    - `.tsv` (or any other extension): one `source<TAB>target` pair per line; empty lines and
      lines starting with `#` are skipped; the target may be empty (the source is dropped).
    - `.json`: an object `{source: target}` (line numbers are then entry numbers).

    # Raises

    `ConfigurationError`
        Naming the file and line, for an unreadable file, a line without exactly one tab, an
        empty source, or a non-string JSON value.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read the glossary {path}: {error}") from error
    entries: list[tuple[int, str, str]] = []
    if path.lower().endswith(".json"):
        try:
            mapping = json.loads(content)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{path}: not valid JSON: {error}") from error
        if not isinstance(mapping, dict):
            raise ConfigurationError(f"{path}: expected a JSON object {{source: target}}")
        for number, (source, target) in enumerate(mapping.items(), start=1):
            if not isinstance(target, str):
                raise ConfigurationError(
                    f"{path}: entry {number} ({source!r}): the target must be a string"
                )
            entries.append((number, source, target))
    else:
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 2:
                raise ConfigurationError(
                    f"{path}: line {number}: expected 'source<TAB>target', got {len(fields)} "
                    "tab-separated fields"
                )
            entries.append((number, fields[0].strip(), fields[1].strip()))
    for number, source, _ in entries:
        if not _lexical_key(source):
            raise ConfigurationError(f"{path}: line {number}: empty source {source!r}")
    return entries


@Translator.register("lexicon")
class LexiconTranslator(Translator):
    """
    Translates with a glossary, word by word: at each word the longest glossary entry that
    matches the following words (across single whitespace runs, not across markers) is
    replaced by its target; a word in no entry is copied through, as are whitespace,
    punctuation without an entry, and the answer markers. Matching is exact first, then (unless
    `case_sensitive`) case-insensitive, in which case a capitalised source gives a capitalised
    target (`"The"` with an entry `the -> ka` gives `"Ka"`). An empty target drops the source
    words and the whitespace after them (after a space, an opening marker or at the start).

    Deterministic and context-free, so it stands in for a machine-translation model in tests
    (`fixtures/lexicon/en-xx.tsv` translates the English fixture set into a made-up language
    `xx`), and serves users who translate with a fixed glossary of names and terms.

    Registered as a `Translator` with name "lexicon".

    # Parameters

    path : `str`
        The glossary: a `.tsv` file of `source<TAB>target` lines (`#` comments) or a `.json`
        object `{source: target}`. Its content (hashed) is part of the cache identity.
    target_lang : `str`, optional (default=`None`)
        A label for the target language (set from `--target-lang` by `xltt-translate`).
    source_lang : `str`, optional (default=`None`)
        A label for the source language.
    case_sensitive : `bool`, optional (default=`False`)
        Only exact-case matches.
    batch_size : `int`, optional (default=`256`)
    markers : `Tuple[str, str]`, optional (default=`("<a>", "</a>")`)
        Copied through as whole tokens; `None` disables the marker method.
    """

    def __init__(
        self,
        path: str,
        target_lang: Optional[str] = None,
        source_lang: Optional[str] = None,
        case_sensitive: bool = False,
        batch_size: int = 256,
        markers: Optional[tuple[str, str]] = DEFAULT_MARKERS,
    ) -> None:
        super().__init__(
            target_lang=target_lang, source_lang=source_lang, batch_size=batch_size, markers=markers
        )
        self.path = path
        self.case_sensitive = case_sensitive
        self._exact: dict[tuple[str, ...], str] = {}
        self._folded: dict[tuple[str, ...], str] = {}
        first_line: dict[tuple[str, ...], int] = {}
        for number, source, target in read_glossary(path):
            key = _lexical_key(source)
            if key in self._exact:
                raise ConfigurationError(
                    f"{path}: line {number}: {source!r} is already defined on line "
                    f"{first_line[key]}"
                )
            self._exact[key] = target
            first_line[key] = number
            self._folded.setdefault(tuple(t.casefold() for t in key), target)
        self.max_entry_length = max((len(key) for key in self._exact), default=1)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:16]
        self._identity = (
            f"lexicon:{os.path.basename(path)}:sha256={digest}:case_sensitive={case_sensitive}"
        )

    @property
    def identity(self) -> str:
        return self._identity

    def _lookup(self, words: tuple[str, ...]) -> Optional[str]:
        target = self._exact.get(words)
        if target is not None or self.case_sensitive:
            return target
        target = self._folded.get(tuple(w.casefold() for w in words))
        if target and words[0][:1].isupper() and target[:1].islower():
            target = target[:1].upper() + target[1:]
        return target

    def translate_one(self, text: str) -> str:
        """The glossary translation of one text."""
        tokens = tokenise(text, self.markers)
        output: list[str] = []
        i = 0
        while i < len(tokens):
            kind, token = tokens[i]
            if kind != "lexical":
                output.append(token)
                i += 1
                continue
            # Positions of up to max_entry_length lexical tokens joined by at most whitespace.
            positions = [i]
            while len(positions) < self.max_entry_length:
                k = positions[-1] + 1
                if k < len(tokens) and tokens[k][0] == "space":
                    k += 1
                if k < len(tokens) and tokens[k][0] == "lexical":
                    positions.append(k)
                else:
                    break
            for length in range(len(positions), 0, -1):
                target = self._lookup(tuple(tokens[p][1] for p in positions[:length]))
                if target is not None:
                    output.append(target)
                    i = positions[length - 1] + 1
                    written = "".join(output)
                    if (
                        not target
                        and i < len(tokens)
                        and tokens[i][0] == "space"
                        and (
                            not written
                            or written[-1].isspace()
                            or (self.markers is not None and written.endswith(self.markers[0]))
                        )
                    ):
                        i += 1
                    break
            else:
                output.append(token)
                i += 1
        return "".join(output)

    def translate(self, texts: list[str]) -> list[str]:
        return [self.translate_one(text) for text in texts]
