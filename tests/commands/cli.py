"""Running a subcommand in-process the way `allennlp` does, for its one-line errors."""

import io
import sys

import pytest
from allennlp.commands import main


def failed_command_stderr(monkeypatch: pytest.MonkeyPatch, *argv: str) -> str:
    """
    Run `allennlp *argv`, which must exit with status 1 without a traceback; its stderr, which
    must end with a newline.
    """
    monkeypatch.setattr(sys, "argv", ["allennlp", *argv])
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with pytest.raises(SystemExit) as info:
        main(prog="allennlp")
    assert info.value.code == 1
    output = stderr.getvalue()
    assert "Traceback" not in output and output.endswith("\n")
    return output
