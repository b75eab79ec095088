"""The exit codes every command shares (the README's table): a module of their own, so that a command does not
import the parser that calls it."""

EXIT_OK = 0
EXIT_FINDINGS = 1  # findings, a regression, a missed injection: something to act on
EXIT_USAGE = 2  # the user's mistake or unreadable input: one line on stderr says which
EXIT_INTERRUPTED = 130
