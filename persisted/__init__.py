"""The persisted-query store: documents by their SHA-256 (Apollo's APQ)."""
