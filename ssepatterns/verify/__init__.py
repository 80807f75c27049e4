"""Post-apply verification: every pattern proven with real round trips (./inv verify)."""
