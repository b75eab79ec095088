"""The CLI's commands, one module each: ``command_<name>(args) -> exit code``. Parsing lives in conformance.cli."""
