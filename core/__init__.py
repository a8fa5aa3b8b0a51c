"""Chirp's core: models, snowflake ids, text rules, short-link codes, security, errors,
metrics and the SQLite lane. It imports nothing of the project outside itself."""
