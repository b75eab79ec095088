"""Where the CLI prints: a terminal gets the width it has; a pipe or a file gets whole lines.

rich assumes 80 columns when it cannot ask a terminal, and then wraps or cuts ids, pointers and messages:
output that is piped into a log or grep must never lose a character, so it gets a width no line reaches.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

# Wide enough for any table row the suite prints; rich tables only take the width their content needs.
PIPE_WIDTH = 10_000


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    target = stream or (sys.stderr if stderr else sys.stdout)
    interactive = bool(getattr(target, "isatty", lambda: False)())
    width = None if interactive else PIPE_WIDTH
    return Console(file=stream, stderr=stderr, highlight=False, soft_wrap=True, width=width)
