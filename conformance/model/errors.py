"""User-facing errors: one line naming the problem and the fix; the CLI turns them into exit code 2."""


class UsageError(Exception):
    """A mistake in what the user asked for (flags, profile, key, paths); never shown as a traceback.

    ``hint`` is a command that fixes or continues it: the CLI prints it alone on the last line, so that it can be
    pasted as it is."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
