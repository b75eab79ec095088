"""SYNTHETIC stand-in servers for the suite's own tests. Nothing here is a recording of a real provider."""
