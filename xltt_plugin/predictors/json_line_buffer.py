"""
`JsonLineBuffer`: the predictor's input lines (as `allennlp predict` passes them, one at a time)
turned into JSON values, whether JSON lines or a multi-line document.
"""

import json
import re
from typing import Any

from xltt_plugin.data.squad_loading import SquadFormatError

# JSON syntax that matters for finding where a multi-line document ends: a backslash escape
# (inside a string), a quote, or a bracket.
_JSON_SYNTAX = re.compile(r'\\.|["{}\[\]]')


class JsonLineBuffer:
    """
    Turns input lines (as `allennlp predict` passes them, one at a time) into JSON values: a line
    that holds a whole value (JSON lines), or the lines of one multi-line document such as a
    pretty-printed SQuAD file, collected until its brackets balance.

    A line that does not parse starts a document when it opens with `{` or `[` and no earlier
    line parsed on its own; in JSON-lines input (some line parsed on its own) it is an error at
    once, so that one broken line cannot swallow the lines after it. A document line that ends
    inside a string, or brackets that close more than they open, are errors as soon as they are
    seen; a document still open when the input ends is reported by `finish`.

    Lines are counted from 1 as they are fed (`allennlp predict` skips blank lines, so those are
    not counted).
    """

    def __init__(self, source: str = "input") -> None:
        self.source = source
        self.lines_fed = 0
        self._document: list[str] = []
        self._document_start = 0
        self._depth = 0
        self._json_lines = False

    @property
    def pending(self) -> bool:
        """A multi-line document has started and is not complete yet."""
        return bool(self._document)

    def feed(self, line: str) -> Any | None:
        """
        The JSON value that `line` completes, or `None` while a document is still open.

        # Raises

        `SquadFormatError`
            Naming the line (or the document's first and last lines) and the problem.
        """
        self.lines_fed += 1
        where = f"{self.source} line {self.lines_fed}"
        if not self._document:
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as error:
                if self._json_lines or not line.lstrip().startswith(("{", "[")):
                    raise SquadFormatError(f"{where}: not valid JSON: {error}") from error
                self._document_start = self.lines_fed
                self._depth = 0
            else:
                self._json_lines = True
                return value
        self._document.append(line)
        in_string = False
        for match in _JSON_SYNTAX.finditer(line):
            token = match.group()
            if token == '"':
                in_string = not in_string
            elif in_string or token.startswith("\\"):
                continue
            elif token in "{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth < 0:
                    self._fail(f"{where}: {token!r} closes more brackets than were opened")
        if in_string:
            self._fail(f"{where}: a string runs past the end of the line (not valid JSON)")
        if self._depth > 0:
            return None
        text = "".join(self._document)
        start = self._document_start
        self._document = []
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise SquadFormatError(
                f"{self.source} lines {start}-{self.lines_fed}: not valid JSON: {error}"
            ) from error

    def finish(self) -> None:
        """
        Call at the end of the input.

        # Raises

        `SquadFormatError`
            When a document is still open (a truncated file).
        """
        if self._document:
            start = self._document_start
            self._document = []
            raise SquadFormatError(
                f"{self.source}: the input ended inside the JSON document that starts on line "
                f"{start} (truncated file?); nothing of it was predicted"
            )

    def _fail(self, message: str) -> None:
        self._document = []
        raise SquadFormatError(message)
