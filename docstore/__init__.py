"""The tweet store: tweets, likes and idempotency keys (port and adapters)."""
