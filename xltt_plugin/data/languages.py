"""Language codes and their inference from MLQA / XQuAD file names."""

import os
import re

# MLQA: {dev,test}-context-{c}-question-{q}.json ; the answer language is the context's.
_MLQA_NAME = re.compile(
    r"(?:^|[-_.])context-(?P<context>[a-z]{2,3})-question-(?P<question>[a-z]{2,3})"
)
# XQuAD: xquad.{lang}.json
_XQUAD_NAME = re.compile(r"^xquad\.(?P<lang>[a-z]{2,3})\.json", re.IGNORECASE)


def infer_language(path: str) -> str | None:
    """
    Infer the answer (context) language of a QA file from its name, as published by MLQA
    (`test-context-de-question-en.json` -> `de`) and XQuAD (`xquad.hi.json` -> `hi`).

    # Parameters

    path : `str`
        A file path; only its base name is looked at.

    # Returns

    `Optional[str]`
        The context language code, or `None` when the name follows neither convention.
    """
    name = os.path.basename(path).lower()
    match = _MLQA_NAME.search(name)
    if match:
        return match.group("context")
    match = _XQUAD_NAME.match(name)
    if match:
        return match.group("lang")
    return None


def infer_question_language(path: str) -> str | None:
    """
    The question language of an MLQA file name (`test-context-de-question-en.json` -> `en`);
    for XQuAD names the question and context languages are the same.
    """
    name = os.path.basename(path).lower()
    match = _MLQA_NAME.search(name)
    if match:
        return match.group("question")
    return infer_language(path)
