"""Where the CLI prints: a terminal gets the width it has; a pipe or a file gets whole lines; nothing a server sent
can drive the terminal.

rich assumes 80 columns when it cannot ask a terminal, and then wraps or cuts ids, pointers and messages:
output that is piped into a log or grep must never lose a character, so it gets a width no line reaches.

Text in a line may come from a server (a message, an id, a pointer in a captured file): every control character
(ESC and its sequences: clear screen, OSC 8 links, OSC 52 clipboard writes; C1 controls; a carriage return that
would overwrite the line) and every lone surrogate is printed as a visible escape, and text is never read as Rich
markup, so ``[red]`` or ``[/]`` in a case id is just text.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

# Wide enough for any table row the suite prints; rich tables only take the width their content needs.
PIPE_WIDTH = 10_000
# Bidirectional controls (U+061C, U+200E-F, U+202A-E, U+2066-9) reorder what a reader sees without changing the
# bytes ("Trojan Source"): shown as escapes too, so a server's text cannot make a line read as something else.
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff{BIDI}]")
_CONTROLS_AND_NEWLINES = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff{BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character and lone surrogate written as an escape (``\\x1b``, ``\\ud800``)."""
    return (_CONTROLS if keep_newlines else _CONTROLS_AND_NEWLINES).sub(_escape, str(text))


def cell(text: Any, style: str | None = None) -> Text:
    """A table cell of data: shown as it is (never markup), control characters visible, on one line."""
    return Text(visible("" if text is None else text), style=style or "")


class SafeConsole(Console):
    """A Console whose strings are data: printed literally (no markup), control characters made visible."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if any(isinstance(o, str) for o in objects):
            objects = tuple(visible(o, keep_newlines=True) if isinstance(o, str) else o for o in objects)
            kwargs["markup"] = False
        super().print(*objects, **kwargs)


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    target = stream or (sys.stderr if stderr else sys.stdout)
    interactive = bool(getattr(target, "isatty", lambda: False)())
    width = None if interactive else PIPE_WIDTH
    return SafeConsole(file=stream, stderr=stderr, highlight=False, soft_wrap=True, width=width)
