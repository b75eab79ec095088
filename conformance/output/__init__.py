"""What the suite writes for people: the console, terminal views, atomic file writes, TOML text."""
