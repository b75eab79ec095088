"""Reports: report.json (machine-readable, versioned) and report.md (the matrix a person reads)."""
