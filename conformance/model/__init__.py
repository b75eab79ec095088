"""What the suite's results are made of: findings, verdicts, expectations, samples, errors and exit codes."""
