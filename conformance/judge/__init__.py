"""From an exchange to a verdict: judging, validating captures, known gaps, OpenAI's recorded answers."""
