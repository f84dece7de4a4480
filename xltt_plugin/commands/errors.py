"""One-line command errors: `COMMAND: error: MESSAGE` on stderr and an exit status, no traceback."""

import sys
from typing import NoReturn


def fail(command: str, message: str, code: int) -> NoReturn:
    """Print `command: error: message` on stderr and exit with `code`."""
    print(f"{command}: error: {message}", file=sys.stderr)
    raise SystemExit(code)
