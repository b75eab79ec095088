"""The suite's one exception tree, and its user-facing errors: one line naming the problem and the fix (the CLI
turns a UsageError into exit code 2).

ConformanceError
 +-- UsageError            what the user asked for cannot be done (flags, profile, key, paths)   -> exit 2
 |    +-- CassetteSecretError (cassettes/persister.py)
 +-- TransportFailure      an exchange the suite's transport ended (wire/transport.py): each kind a subclass
 +-- AnswerUnreadable      an answer the judge cannot decode (not JSON, not an event stream)       -> ERROR
 |    +-- StreamError      the stream carried the server's own error, or broke off (judge/analysis.py)
 +-- CheckCrashed          a check's own bug (checks/registry.py)                                  -> ERROR
 +-- CannotFollow          a conversation's next step needs what the last answer did not give        -> FAIL
"""


class ConformanceError(Exception):
    """The root of every exception the suite raises on purpose: ``except ConformanceError`` tells the suite's
    classified failures from a bug."""


class AnswerUnreadable(ConformanceError, ValueError):
    """An answer the judge cannot decode into anything a check reads: a body that is no JSON value, a stream that is
    no event stream. Its message is one line, with a preview of what came. (A ValueError too: the decoders below it
    raise ValueError, and it is one.)"""


class UsageError(ConformanceError):
    """A mistake in what the user asked for (flags, profile, key, paths); never shown as a traceback.

    ``hint`` is a command that fixes or continues it: the CLI prints it alone on the last line, so that it can be
    pasted as it is."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CannotFollow(ConformanceError):
    """A conversation's next step cannot be built from the previous answer: an id the suite will not put in a URL
    (``resp_1/cancel``, ``..``, a 1 MB string, an object), so the conversation ends there with a FAIL that says
    what came back instead of sending a request the case never meant. ``step`` (1-based) and ``pointer`` say where
    the unusable value is, ``seen`` what it was."""

    def __init__(self, message: str, *, step: int, pointer: str, seen: object) -> None:
        super().__init__(message)
        self.step, self.pointer, self.seen = step, pointer, seen
