"""A run: its options and settings, targets' profiles, the runner, scenarios, sending, pre-flight checks,
interruption."""
