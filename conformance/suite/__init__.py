"""The catalogue as a pytest module: ``pytest --pyargs conformance.suite`` (or ``conformance run``)."""
