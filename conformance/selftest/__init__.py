"""Self-test: inject every known real-world deviation into recorded exchanges and prove the checks catch it."""
