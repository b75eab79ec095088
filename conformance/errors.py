"""User-facing errors: one line naming the problem and the fix; the CLI turns them into exit code 2."""


class UsageError(Exception):
    """A mistake in what the user asked for (flags, profile, key, paths); never shown as a traceback."""
