"""Scans over the API: /scan, /scan/dry-run and /scan/iac."""
