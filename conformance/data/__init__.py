"""Data shipped with the package (derived facts; each file says where it comes from)."""
